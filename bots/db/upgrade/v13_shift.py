"""v13: a counsellor's shift (capacity, breaks, supervision) and the visitor's verdict."""

from __future__ import annotations

from mautrix.util.async_db import Connection

DESCRIPTION = "Capacity, breaks, supervision and feedback tickets"


async def upgrade(conn: Connection) -> None:
    """v13: the counsellor's shift (issue 24).

    ``staff`` gets a counsellor's own limit of simultaneous chats (``capacity``; NULL: the
    configured default), the start of a break (``break_since``; NULL: available), whether they
    may read along with colleagues (``supervisor``) and whether the live cards are owed to a
    new cross-signing identity (``cards_owed``: a first ever identity, or one an administrator
    trusted again after a reset).

    ``queue_case`` gets who reads along in the chat (``watched_by``, as decided), who is in the
    room for that (``watch_member``, as applied) and the outbox message telling the visitor,
    which must be out before the invite (``watch_notice``). The row goes at the purge.

    ``outbox`` gets an index to find a case by an earlier card of it.

    ``feedback_ticket`` holds only a hash of each one-time ticket for the visitor's verdict and
    when it expires: no case, no visitor, nothing to join it with.
    """
    await conn.execute("ALTER TABLE staff ADD COLUMN capacity INTEGER")
    await conn.execute("ALTER TABLE staff ADD COLUMN break_since BIGINT")
    await conn.execute("ALTER TABLE staff ADD COLUMN supervisor BOOLEAN NOT NULL DEFAULT false")
    await conn.execute("ALTER TABLE staff ADD COLUMN cards_owed BOOLEAN NOT NULL DEFAULT false")
    await conn.execute("ALTER TABLE queue_case ADD COLUMN watched_by TEXT")
    await conn.execute("ALTER TABLE queue_case ADD COLUMN watch_member TEXT")
    await conn.execute("ALTER TABLE queue_case ADD COLUMN watch_notice TEXT")
    await conn.execute(
        """CREATE TABLE feedback_ticket (
            ticket_hash TEXT PRIMARY KEY,
            expires_at  BIGINT NOT NULL
        )"""
    )
    await conn.execute("CREATE INDEX feedback_ticket_expires ON feedback_ticket (expires_at)")
    # A card's case by any card it had (a card posted again for a new session replaces one).
    await conn.execute("CREATE INDEX outbox_case_event ON outbox (event_id) WHERE case_id IS NOT NULL")
