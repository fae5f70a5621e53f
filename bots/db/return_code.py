"""Return codes: keyed hashes of a code's lookup value and verifier, one row per case.

Never the code, the second word, the login secret or the secret-storage key (they never reach
the bots, except the login secret once, in passing). See docs/return-code.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mautrix.util.async_db import Database


@dataclass(frozen=True)
class ReturnCode:
    case_id: str
    lookup_hash: str
    verifier_hash: str
    made_at: int
    expires_at: int | None
    wrong: int

    @classmethod
    def from_row(cls, row: Any) -> ReturnCode:
        return cls(
            case_id=row["case_id"],
            lookup_hash=row["lookup_hash"],
            verifier_hash=row["verifier_hash"],
            made_at=row["made_at"],
            expires_at=row["expires_at"],
            wrong=row["wrong"],
        )


class ReturnCodeStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def put(self, case_id: str, lookup_hash: str, verifier_hash: str, now: int) -> None:
        """Register the case's code, replacing an earlier one (a rotation)."""
        await self.db.execute("DELETE FROM return_code WHERE case_id=$1 OR lookup_hash=$2", case_id, lookup_hash)
        await self.db.execute(
            "INSERT INTO return_code (case_id, lookup_hash, verifier_hash, made_at) VALUES ($1, $2, $3, $4)",
            case_id,
            lookup_hash,
            verifier_hash,
            now,
        )

    async def of_case(self, case_id: str) -> ReturnCode | None:
        row = await self.db.fetchrow("SELECT * FROM return_code WHERE case_id=$1", case_id)
        return ReturnCode.from_row(row) if row else None

    async def by_lookup(self, lookup_hash: str) -> ReturnCode | None:
        row = await self.db.fetchrow("SELECT * FROM return_code WHERE lookup_hash=$1", lookup_hash)
        return ReturnCode.from_row(row) if row else None

    async def set_expiry(self, case_id: str, expires_at: int) -> None:
        await self.db.execute("UPDATE return_code SET expires_at=$2 WHERE case_id=$1", case_id, expires_at)

    async def wrong_word(self, case_id: str) -> int:
        """Count a wrong second word; the count so far (0 when the code is gone)."""
        value = await self.db.fetchval("UPDATE return_code SET wrong=wrong+1 WHERE case_id=$1 RETURNING wrong", case_id)
        return int(value or 0)

    async def expired(self, now: int) -> list[str]:
        rows = await self.db.fetch(
            "SELECT case_id FROM return_code WHERE expires_at IS NOT NULL AND expires_at <= $1 ORDER BY expires_at",
            now,
        )
        return [row["case_id"] for row in rows]

    async def forget(self, case_id: str) -> None:
        await self.db.execute("DELETE FROM return_code WHERE case_id=$1", case_id)
