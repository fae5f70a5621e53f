"""v9: outreach invites, routed cases, duty."""

from __future__ import annotations

from mautrix.util.async_db import Connection

DESCRIPTION = "Outreach invites, routed cases, duty"


async def upgrade(conn: Connection) -> None:
    """v9: outreach (pillar 2).

    ``outreach_invite`` holds an open invite as a keyed hash of its code only; using, revoking
    or expiring it deletes the row, so nothing links a case to the invite it came from. The case
    keeps only the worker it was routed to (``routed_to``). Cases never keep the code itself:
    the ``invite`` column is emptied and no longer written. Staff get an organisation (a
    partner's outreach workers) and a duty switch.
    """
    await conn.execute(
        """CREATE TABLE outreach_invite (
            code_hash  TEXT PRIMARY KEY,
            worker     TEXT NOT NULL,
            campaign   TEXT,
            article    TEXT,
            created_at BIGINT NOT NULL,
            expires_at BIGINT NOT NULL
        )"""
    )
    await conn.execute("CREATE INDEX outreach_invite_worker ON outreach_invite (worker, created_at)")
    await conn.execute("ALTER TABLE visitor_case ADD COLUMN routed_to TEXT")
    await conn.execute("UPDATE visitor_case SET invite=NULL")
    await conn.execute("ALTER TABLE staff ADD COLUMN organisation TEXT")
    await conn.execute("ALTER TABLE staff ADD COLUMN on_duty BOOLEAN NOT NULL DEFAULT true")
