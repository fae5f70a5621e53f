"""Return codes: keyed hashes of a code's lookup value and verifier, one row per case.

Never the code, the second word, the login secret or the secret-storage key (they never reach
the bots, except the login secret once, in passing). See docs/return-code.md.

A row is written, replaced and deleted only by its own case (SECURITY.md H.38): a lookup that
another case's code already has is refused (``LookupTaken``), never taken over.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from asyncpg import UniqueViolationError
from mautrix.util.async_db import Database


@dataclass(frozen=True)
class ReturnCode:
    case_id: str
    lookup_hash: str
    verifier_hash: str
    made_at: int
    expires_at: int | None
    wrong: int
    # Used for a return at this time; the row waits for the returning device (docs/return-code.md).
    returned_at: int | None
    # The dehydrated device kept while the case was dormant.
    kept_device: str | None
    # The secret-storage key mixes in the bots' value (codes made since schema v12).
    keyed: bool

    @classmethod
    def from_row(cls, row: Any) -> ReturnCode:
        return cls(
            case_id=row["case_id"],
            lookup_hash=row["lookup_hash"],
            verifier_hash=row["verifier_hash"],
            made_at=row["made_at"],
            expires_at=row["expires_at"],
            wrong=row["wrong"],
            returned_at=row["returned_at"],
            kept_device=row["kept_device"],
            keyed=bool(row["keyed"]),
        )


class LookupTaken(Exception):
    """Another case's code has this lookup value (someone who knows that code, or a collision)."""


@asynccontextmanager
async def _unique_lookup() -> AsyncIterator[None]:
    """The driver's unique violation (SQLite or PostgreSQL) as ``LookupTaken``."""
    try:
        yield
    except (sqlite3.IntegrityError, UniqueViolationError) as exc:
        raise LookupTaken from exc


class ReturnCodeStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def put(self, case_id: str, lookup_hash: str, verifier_hash: str, now: int) -> None:
        """Register the case's code, replacing its own earlier one (a rotation), never another
        case's: ``LookupTaken`` when another case has the lookup. Run it in a transaction (on
        PostgreSQL a refused insert ends the transaction; the caller's rolls back)."""
        await self.db.execute("DELETE FROM return_code WHERE case_id=$1", case_id)
        async with _unique_lookup():
            await self.db.execute(
                "INSERT INTO return_code (case_id, lookup_hash, verifier_hash, made_at, keyed) "
                "VALUES ($1, $2, $3, $4, true)",
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

    async def keep_until(self, case_id: str, expires_at: int, kept_device: str | None) -> bool:
        """The case goes dormant: its code (not one already used for a return) works until
        ``expires_at``. False when the case has no such code (the check and the write are one
        statement, so a concurrent change cannot slip in between)."""
        row = await self.db.fetchrow(
            "UPDATE return_code SET expires_at=$2, kept_device=$3 WHERE case_id=$1 AND returned_at IS NULL "
            "RETURNING case_id",
            case_id,
            expires_at,
            kept_device,
        )
        return row is not None

    async def returned(self, case_id: str, now: int) -> bool:
        """The code was used for a return: it now waits for the returning device."""
        row = await self.db.fetchrow(
            "UPDATE return_code SET returned_at=$2 WHERE case_id=$1 AND returned_at IS NULL RETURNING case_id",
            case_id,
            now,
        )
        return row is not None

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

    async def used_for_return(self) -> list[ReturnCode]:
        """Codes used for a return that still wait for the returning device."""
        rows = await self.db.fetch("SELECT * FROM return_code WHERE returned_at IS NOT NULL ORDER BY returned_at")
        return [ReturnCode.from_row(row) for row in rows]

    async def forget(self, case_id: str) -> None:
        await self.db.execute("DELETE FROM return_code WHERE case_id=$1", case_id)
