"""v4: indexes for the queue worker's scans."""

from __future__ import annotations

from mautrix.util.async_db import Connection

DESCRIPTION = "Indexes for the queue worker's scans"


async def upgrade(conn: Connection) -> None:
    """v4: indexes so the queue worker's scans (every round) stay small as closed cases pile up.

    Each partial index has exactly the condition its query uses, so only cases with work left
    are read, on SQLite and on PostgreSQL alike.
    """
    await conn.execute(
        "CREATE INDEX queue_case_card_todo ON queue_case (case_id) "
        "WHERE card_version > card_shown OR (card_txn IS NOT NULL AND card_event_id IS NULL)"
    )
    await conn.execute(
        "CREATE INDEX queue_case_access_todo ON queue_case (case_id) "
        "WHERE COALESCE(claimed_by, '') <> COALESCE(room_counsellor, '')"
    )
    await conn.execute(
        "CREATE INDEX queue_case_space_todo ON queue_case (case_id) "
        "WHERE (stage IN ('waiting', 'claimed')) <> space_linked"
    )
    await conn.execute(
        "CREATE INDEX queue_case_handled ON queue_case (closed_at) WHERE stage = 'closed' AND claimed_at IS NOT NULL"
    )
    await conn.execute("CREATE INDEX visitor_case_number ON visitor_case (number)")
    await conn.execute(
        "CREATE INDEX visitor_case_to_erase ON visitor_case (closed_at) "
        "WHERE state = 'closed' AND erased_at IS NULL AND visitor IS NOT NULL"
    )
