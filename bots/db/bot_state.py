"""Small facts the bot keeps between runs, such as the last fully handled sync token."""

from __future__ import annotations

from mautrix.util.async_db import Database

SYNC_TOKEN = "sync_token"  # noqa: S105 - a key name, not a secret


class BotStateStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, key: str) -> str | None:
        value = await self.db.fetchval("SELECT value FROM bot_state WHERE key=$1", key)
        return str(value) if value is not None else None

    async def put(self, key: str, value: str) -> None:
        await self.db.execute(
            "INSERT INTO bot_state (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value=excluded.value",
            key,
            value,
        )
