"""v14: write now, answered later (docs/write-later.md)."""

from __future__ import annotations

from mautrix.util.async_db import Connection

DESCRIPTION = "Messages written to be answered later"


async def upgrade(conn: Connection) -> None:
    """v14: a case whose visitor wrote, made a return code and left, to be answered later.

    ``visitor_case`` gets why (``later_reason``: ``closed`` when the chat was closed, set when
    such a session starts; ``long_wait`` when a visitor in a live chat chose it), when the
    visitor left the message (``later_at``), when an answer is promised by (``answer_due``:
    the next opening, or the moment they left, plus ``async.answer_within_hours``) and when a
    staff member first wrote in the case room after that (``answered_at``); the counsellor who
    is owed the visitor's earlier lines (``relay_to``) and who last got them (``relayed_to``).
    Enumerated values, times and staff IDs only: they go with the case at its purge.
    """
    await conn.execute("ALTER TABLE visitor_case ADD COLUMN later_reason TEXT")
    await conn.execute("ALTER TABLE visitor_case ADD COLUMN later_at BIGINT")
    await conn.execute("ALTER TABLE visitor_case ADD COLUMN answer_due BIGINT")
    await conn.execute("ALTER TABLE visitor_case ADD COLUMN answered_at BIGINT")
    # The counsellor owed what the visitor wrote before they joined (bots/queue/workers/relay.py).
    await conn.execute("ALTER TABLE visitor_case ADD COLUMN relay_to TEXT")
    # The last counsellor it was relayed to (each new holder gets it once).
    await conn.execute("ALTER TABLE visitor_case ADD COLUMN relayed_to TEXT")
