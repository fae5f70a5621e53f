"""Trust on first use: the master cross-signing key first seen for each user.

A later, different master key for the same user is an identity change; the trust policy
then stops trusting that user's devices (see ``bots.crypto.trust``).
"""

from __future__ import annotations

from mautrix.util.async_db import Database

from bots.ids import UserID


class PinnedIdentityStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, user_id: UserID) -> str | None:
        value = await self.db.fetchval("SELECT master_key FROM pinned_identity WHERE user_id=$1", user_id)
        return str(value) if value is not None else None

    async def pin(self, user_id: UserID, master_key: str, now: int) -> tuple[str, bool]:
        """Pin ``master_key`` unless a key is pinned already; the pinned key, and whether it was
        pinned just now (a first identity, or the first after ``keerpunt staff reset-identity``)."""
        inserted = await self.db.fetchrow(
            "INSERT INTO pinned_identity (user_id, master_key, pinned_at) VALUES ($1, $2, $3) "
            "ON CONFLICT (user_id) DO NOTHING RETURNING user_id",
            user_id,
            master_key,
            now,
        )
        pinned = await self.get(user_id)
        assert pinned is not None
        return pinned, inserted is not None

    async def announce(self, user_id: UserID, master_key: str) -> bool:
        """Record that a change to ``master_key`` was announced; False when it was before."""
        row = await self.db.fetchrow(
            "UPDATE pinned_identity SET announced_master=$2 WHERE user_id=$1 "
            "AND (announced_master IS NULL OR announced_master <> $2) RETURNING user_id",
            user_id,
            master_key,
        )
        return row is not None

    async def replace(self, user_id: UserID, master_key: str, now: int) -> None:
        """Pin ``master_key`` in place of any earlier key (an operator confirmed it)."""
        await self.db.execute(
            "INSERT INTO pinned_identity (user_id, master_key, pinned_at) VALUES ($1, $2, $3) "
            "ON CONFLICT (user_id) DO UPDATE SET master_key=excluded.master_key, pinned_at=excluded.pinned_at, "
            "announced_master=NULL",
            user_id,
            master_key,
            now,
        )

    async def forget(self, user_id: UserID) -> None:
        """Drop the pin of a user who is gone (a visitor whose case room was purged)."""
        await self.db.execute("DELETE FROM pinned_identity WHERE user_id=$1", user_id)
