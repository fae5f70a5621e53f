"""Open outreach invites, by the keyed hash of their code (the code itself is never stored)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mautrix.util.async_db import Database

from bots.ids import UserID


@dataclass(frozen=True)
class Invite:
    code_hash: str
    worker: UserID
    campaign: str | None
    article: str | None
    created_at: int
    expires_at: int

    @classmethod
    def from_row(cls, row: Any) -> Invite:
        return cls(
            row["code_hash"],
            UserID(row["worker"]),
            row["campaign"],
            row["article"],
            row["created_at"],
            row["expires_at"],
        )


class InviteStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(self, invite: Invite) -> None:
        await self.db.execute(
            "INSERT INTO outreach_invite (code_hash, worker, campaign, article, created_at, expires_at) "
            "VALUES ($1, $2, $3, $4, $5, $6)",
            invite.code_hash,
            invite.worker,
            invite.campaign,
            invite.article,
            invite.created_at,
            invite.expires_at,
        )

    async def exists(self, code_hash: str) -> bool:
        return await self.db.fetchval("SELECT 1 FROM outreach_invite WHERE code_hash=$1", code_hash) is not None

    async def redeem(self, code_hash: str, now: int) -> Invite | None:
        """Use an open invite: it is gone afterwards, whatever happens next (single use)."""
        row = await self.db.fetchrow(
            "DELETE FROM outreach_invite WHERE code_hash=$1 AND expires_at > $2 RETURNING *", code_hash, now
        )
        return Invite.from_row(row) if row is not None else None

    async def open_of(self, worker: UserID, now: int) -> list[Invite]:
        rows = await self.db.fetch(
            "SELECT * FROM outreach_invite WHERE worker=$1 AND expires_at > $2 ORDER BY created_at", worker, now
        )
        return [Invite.from_row(row) for row in rows]

    async def revoke(self, code_hash: str, worker: UserID) -> bool:
        found = await self.db.fetchval(
            "DELETE FROM outreach_invite WHERE code_hash=$1 AND worker=$2 RETURNING code_hash", code_hash, worker
        )
        return found is not None

    async def drop_expired(self, now: int) -> int:
        rows = await self.db.fetch("DELETE FROM outreach_invite WHERE expires_at <= $1 RETURNING code_hash", now)
        return len(rows)

    async def drop_worker(self, worker: UserID) -> None:
        await self.db.execute("DELETE FROM outreach_invite WHERE worker=$1", worker)
