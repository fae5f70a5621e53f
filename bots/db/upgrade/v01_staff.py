"""v1: staff and system rooms."""

from __future__ import annotations

from mautrix.util.async_db import Connection

DESCRIPTION = "Staff and system rooms"


async def upgrade(conn: Connection) -> None:
    """v1: staff and system rooms."""
    await conn.execute(
        """CREATE TABLE system_room (
            kind    TEXT PRIMARY KEY,
            room_id TEXT NOT NULL UNIQUE
        )"""
    )
    await conn.execute(
        """CREATE TABLE staff (
            user_id    TEXT PRIMARY KEY,
            role       TEXT NOT NULL,
            partner_id TEXT,
            added_at   BIGINT NOT NULL
        )"""
    )
