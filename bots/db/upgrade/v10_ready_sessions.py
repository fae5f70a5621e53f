"""v10: ready sessions."""

from __future__ import annotations

from mautrix.util.async_db import Connection

DESCRIPTION = "Ready sessions"


async def upgrade(conn: Connection) -> None:
    """v10: ready sessions (bots/sessions/pool.py).

    A visitor account and its case room made ahead of time, before anyone asked: no case, no
    language of a visitor, no token (the account has no device until a visitor claims it).
    The row is written before the account is registered ('making') and gets its room when
    createRoom answered ('ready'), so the start-up repair finds anything a crash left half made.
    Claiming one deletes the row in the transaction that gives the new case its account and
    room. Spare accounts (visitor_case rows in state 'spare') are no longer made; any left from
    before are removed by the same repair.
    """
    await conn.execute(
        """CREATE TABLE ready_session (
            id         TEXT PRIMARY KEY,
            state      TEXT NOT NULL,
            visitor    TEXT NOT NULL UNIQUE,
            room_id    TEXT UNIQUE,
            language   TEXT NOT NULL,
            created_at BIGINT NOT NULL
        )"""
    )
    await conn.execute("CREATE INDEX ready_session_state ON ready_session (state, created_at)")
