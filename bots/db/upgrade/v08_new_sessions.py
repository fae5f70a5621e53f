"""v8: live cards posted again for a counsellor's new session."""

from __future__ import annotations

from mautrix.util.async_db import Connection

DESCRIPTION = "Live cards posted again for a counsellor's new session"


async def upgrade(conn: Connection) -> None:
    """v8: a new session of a counsellor can read the live cards.

    Element asks only its own devices for lost room keys, so when a staff member's new
    cross-signed device appears the bot posts every live card again (a new event, encrypted for
    the room's devices of now) and redacts the one it replaces (``card_replaced``).
    ``staff_device`` remembers which cross-signed devices of each staff member the live cards
    have reached, so only a device that is really new causes that.
    """
    await conn.execute("ALTER TABLE queue_case ADD COLUMN card_replaced TEXT")
    await conn.execute(
        """CREATE TABLE staff_device (
            user_id   TEXT NOT NULL,
            device_id TEXT NOT NULL,
            PRIMARY KEY (user_id, device_id)
        )"""
    )
