"""Numbered schema upgrade steps. Never edit a released step; add a new one."""

from mautrix.util.async_db import Connection, UpgradeTable

upgrade_table = UpgradeTable(database_name="Keerpunt bots")


async def upgrade_v1(conn: Connection) -> None:
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


# mautrix's decorator is untyped; registering by call keeps mypy strict for the steps.
upgrade_table.register(upgrade_v1, description="Staff and system rooms")
