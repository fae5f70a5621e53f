"""Ready sessions: a visitor account and its case room made ahead of time (bots/sessions/pool.py).

'making' from before the account is registered until its room is made, then 'ready' (and
'removing' once past its age, while its account and room are removed). Claiming
deletes the row and gives its account and room to a case still 'creating', in one transaction:
two claims can never get the same row, and a crash never leaves an account or a room that
neither table knows. No token is kept: the account has no device until it is claimed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from mautrix.util.async_db import Database

from bots.ids import RoomID, UserID

# 'removing': past its age, taken out of reach of claims while its account and room go.
ReadyState = Literal["making", "ready", "removing"]


@dataclass(frozen=True)
class ReadySession:
    id: str
    state: ReadyState
    visitor: UserID
    room_id: RoomID | None
    language: str
    created_at: int

    @classmethod
    def from_row(cls, row: Any) -> ReadySession:
        return cls(
            id=row["id"],
            state=row["state"],
            visitor=UserID(row["visitor"]),
            room_id=RoomID(row["room_id"]) if row["room_id"] else None,
            language=row["language"],
            created_at=row["created_at"],
        )


class ReadySessionStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def insert_making(self, ready_id: str, visitor: UserID, language: str, now: int) -> None:
        """Record a ready session before its account exists (so a crash leaves nothing unknown)."""
        await self.db.execute(
            "INSERT INTO ready_session (id, state, visitor, language, created_at) VALUES ($1, 'making', $2, $3, $4)",
            ready_id,
            visitor,
            language,
            now,
        )

    async def mark_ready(self, ready_id: str, room_id: RoomID) -> bool:
        row = await self.db.fetchrow(
            "UPDATE ready_session SET state='ready', room_id=$2 WHERE id=$1 AND state='making' RETURNING id",
            ready_id,
            room_id,
        )
        return row is not None

    async def take_for_removal(self, ready_id: str) -> bool:
        """Take a ready session out of reach of claims; False when a claim got it first."""
        row = await self.db.fetchrow(
            "UPDATE ready_session SET state='removing' WHERE id=$1 AND state='ready' RETURNING id", ready_id
        )
        return row is not None

    async def room_ids(self) -> set[RoomID]:
        rows = await self.db.fetch("SELECT room_id FROM ready_session WHERE room_id IS NOT NULL")
        return {RoomID(row["room_id"]) for row in rows}

    async def delete(self, ready_id: str) -> None:
        await self.db.execute("DELETE FROM ready_session WHERE id=$1", ready_id)

    async def all(self) -> list[ReadySession]:
        rows = await self.db.fetch("SELECT * FROM ready_session ORDER BY created_at")
        return [ReadySession.from_row(row) for row in rows]

    async def count(self) -> tuple[int, int]:
        """(ready, being made)."""
        rows = await self.db.fetch("SELECT state, COUNT(*) AS n FROM ready_session GROUP BY state")
        counts = {row["state"]: int(row["n"]) for row in rows}
        return counts.get("ready", 0), counts.get("making", 0)

    async def older_than(self, before: int) -> list[ReadySession]:
        rows = await self.db.fetch(
            "SELECT * FROM ready_session WHERE state='ready' AND created_at < $1 ORDER BY created_at", before
        )
        return [ReadySession.from_row(row) for row in rows]

    async def oldest_ready(self, newer_than: int) -> str | None:
        """The ID of the oldest ready session made at or after ``newer_than``."""
        row = await self.db.fetchrow(
            "SELECT id FROM ready_session WHERE state='ready' AND created_at >= $1 ORDER BY created_at LIMIT 1",
            newer_than,
        )
        return str(row["id"]) if row is not None else None

    async def take(self, ready_id: str) -> ReadySession | None:
        """Delete a ready row and return it; None when another claim (or the age limit) took it.

        The DELETE decides: of two takes of the same row only one gets it back (on PostgreSQL
        the second waits for the first to commit, then finds nothing to delete).
        """
        row = await self.db.fetchrow("DELETE FROM ready_session WHERE id=$1 AND state='ready' RETURNING *", ready_id)
        return ReadySession.from_row(row) if row is not None else None
