"""The bots' database as a test reads it: every row of every table."""

from __future__ import annotations

from typing import Any

from bots.db import Stores

# Tables that may keep rows after every case is purged: the bots' own state, staff (and the
# devices of theirs the cards reached) and rooms,
# and the statistics (which hold no case, person, room, event or time of day).
KEPT = {"bot_state", "staff", "staff_device", "system_room", "stat_count", "version", "mx_version"}


async def rows(stores: Stores) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table of the bots' database."""
    if stores.db.scheme == "postgres":
        query = "SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema()"
    else:
        query = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    out = {}
    for table in await stores.db.fetch(query):
        name = table["name"]
        out[name] = [dict(row) for row in await stores.db.fetch(f"SELECT * FROM {name}")]  # noqa: S608
    return out
