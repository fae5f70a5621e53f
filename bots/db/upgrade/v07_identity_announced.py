"""v7: announced identity changes."""

from __future__ import annotations

from mautrix.util.async_db import Connection

DESCRIPTION = "Announced identity changes"


async def upgrade(conn: Connection) -> None:
    """v7: the identity change of a staff member is announced in the queue room once per new key."""
    await conn.execute("ALTER TABLE pinned_identity ADD COLUMN announced_master TEXT")
