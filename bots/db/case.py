"""Visitor cases: one row per anonymous conversation, from 'creating' to 'closed'.

This is the case's own record and life (made, opened, closed, erased, purged). Two jobs read
and write more of its row through stores of their own: who last wrote and the idle warning
(``bots.db.case_activity``, the lifecycle's timers) and a return code's dormancy
(``bots.db.dormancy``).

The row is written before anything is created in Synapse and every later step is recorded,
so a crash half-way is repaired at the next start (see ``bots.sessions.domain``). It holds
no IP address and no access token.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Literal

from asyncpg import UniqueViolationError
from mautrix.util.async_db import Database

from bots.ids import RoomID, UserID

# 'spare': a visitor account registered ahead of time by an older version; the start-up
# repair removes any left (ready sessions, bots.sessions.pool, replaced them).
# 'dormant': the visitor ended the chat with a return code (bots.returning.codes); every
# timer and retention skip it until it returns (open again) or its code ends (closed).
CaseState = Literal["spare", "creating", "open", "closed", "dormant"]


@dataclass(frozen=True)
class Case:
    id: str
    number: str
    state: CaseState
    language: str
    entry: str
    campaign: str | None
    # The outreach worker an invite routed this case to (the invite itself is never kept).
    routed_to: UserID | None
    visitor: UserID | None
    room_id: RoomID | None
    created_at: int
    opened_at: int | None
    greeted_at: int | None
    closed_at: int | None
    close_reason: str | None
    erased_at: int | None
    purge_after: int | None
    purged_at: int | None

    @classmethod
    def from_row(cls, row: Any) -> Case:
        return cls(
            id=row["id"],
            number=row["number"],
            state=row["state"],
            language=row["language"],
            entry=row["entry"],
            campaign=row["campaign"],
            routed_to=UserID(row["routed_to"]) if row["routed_to"] else None,
            visitor=UserID(row["visitor"]) if row["visitor"] else None,
            room_id=RoomID(row["room_id"]) if row["room_id"] else None,
            created_at=row["created_at"],
            opened_at=row["opened_at"],
            greeted_at=row["greeted_at"],
            closed_at=row["closed_at"],
            close_reason=row["close_reason"],
            erased_at=row["erased_at"],
            purge_after=row["purge_after"],
            purged_at=row["purged_at"],
        )


class NumberTaken(Exception):
    """Another live case has this number (a concurrent start drew it first)."""


@asynccontextmanager
async def _unique_number() -> AsyncIterator[None]:
    """The driver's unique violation (SQLite or PostgreSQL) as ``NumberTaken``: the drivers stay here."""
    try:
        yield
    except (sqlite3.IntegrityError, UniqueViolationError) as exc:
        raise NumberTaken from exc


class CaseStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def numbers_in_use(self) -> set[str]:
        rows = await self.db.fetch("SELECT number FROM visitor_case WHERE state IN ('creating', 'open', 'dormant')")
        return {row["number"] for row in rows}

    async def insert(
        self,
        case_id: str,
        number: str,
        *,
        language: str,
        entry: str,
        campaign: str | None,
        now: int,
    ) -> None:
        """Insert a 'creating' case; raises NumberTaken if the number is taken."""
        async with _unique_number():
            await self.db.execute(
                "INSERT INTO visitor_case (id, number, state, language, entry, campaign, created_at) "
                "VALUES ($1, $2, 'creating', $3, $4, $5, $6)",
                case_id,
                number,
                language,
                entry,
                campaign,
                now,
            )

    async def adopt(self, case_id: str, visitor: UserID, room_id: RoomID) -> bool:
        """A 'creating' case takes over a ready session's account and room (bots.sessions.pool)."""
        row = await self.db.fetchrow(
            "UPDATE visitor_case SET visitor=$2, room_id=$3 WHERE id=$1 AND state='creating' RETURNING id",
            case_id,
            visitor,
            room_id,
        )
        return row is not None

    async def get(self, case_id: str) -> Case | None:
        row = await self.db.fetchrow("SELECT * FROM visitor_case WHERE id=$1", case_id)
        return Case.from_row(row) if row else None

    async def by_room(self, room_id: RoomID) -> Case | None:
        row = await self.db.fetchrow("SELECT * FROM visitor_case WHERE room_id=$1", room_id)
        return Case.from_row(row) if row else None

    async def by_visitor(self, visitor: UserID) -> Case | None:
        row = await self.db.fetchrow("SELECT * FROM visitor_case WHERE visitor=$1", visitor)
        return Case.from_row(row) if row else None

    async def in_state(self, state: CaseState) -> list[Case]:
        rows = await self.db.fetch("SELECT * FROM visitor_case WHERE state=$1 ORDER BY created_at", state)
        return [Case.from_row(row) for row in rows]

    async def room_ids(self) -> set[RoomID]:
        rows = await self.db.fetch("SELECT room_id FROM visitor_case WHERE room_id IS NOT NULL")
        return {RoomID(row["room_id"]) for row in rows}

    async def set_visitor(self, case_id: str, visitor: UserID) -> None:
        await self.db.execute("UPDATE visitor_case SET visitor=$2 WHERE id=$1 AND state='creating'", case_id, visitor)

    async def route(self, case_id: str, worker: UserID, campaign: str | None) -> None:
        """An outreach invite was used: the case goes to ``worker`` (and keeps the invite's campaign)."""
        await self.db.execute(
            "UPDATE visitor_case SET routed_to=$2, campaign=COALESCE(campaign, $3) WHERE id=$1 AND state='creating'",
            case_id,
            worker,
            campaign,
        )

    async def open(self, case_id: str, room_id: RoomID, now: int) -> None:
        await self.db.execute(
            "UPDATE visitor_case SET room_id=$2, state='open', opened_at=$3 WHERE id=$1 AND state='creating'",
            case_id,
            room_id,
            now,
        )

    async def delete_creating(self, case_id: str) -> None:
        await self.db.execute("DELETE FROM visitor_case WHERE id=$1 AND state IN ('creating', 'spare')", case_id)

    async def mark_greeted(self, case_id: str, language: str, now: int) -> bool:
        """Record the greeting; False when the case was greeted before (exactly once)."""
        row = await self.db.fetchrow(
            "UPDATE visitor_case SET greeted_at=$2, language=$3 "
            "WHERE id=$1 AND state='open' AND greeted_at IS NULL RETURNING id",
            case_id,
            now,
            language,
        )
        return row is not None

    async def close(self, case_id: str, reason: str, now: int, purge_after: int) -> bool:
        row = await self.db.fetchrow(
            "UPDATE visitor_case SET state='closed', closed_at=$2, close_reason=$3, purge_after=$4 "
            "WHERE id=$1 AND state='open' RETURNING id",
            case_id,
            now,
            reason,
            purge_after,
        )
        return row is not None

    async def mark_erased(self, case_id: str, now: int) -> None:
        await self.db.execute("UPDATE visitor_case SET erased_at=$2 WHERE id=$1", case_id, now)

    async def closed_not_erased(self) -> list[Case]:
        """Visitors who ended their chat but whose erase did not finish (a crash in between).

        Cases a counsellor closed are not among them: the queue's erasure worker erases those after the
        grace period (``queue.erase_after_minutes``), and not while a handover is live.
        """
        rows = await self.db.fetch(
            "SELECT * FROM visitor_case WHERE state='closed' AND erased_at IS NULL AND visitor IS NOT NULL "
            "AND close_reason <> 'counsellor'"
        )
        return [Case.from_row(row) for row in rows]

    async def due_for_purge(self, now: int) -> list[Case]:
        """Closed cases past their purge date, with no live handover and every event counted."""
        rows = await self.db.fetch(
            "SELECT * FROM visitor_case WHERE state='closed' AND purged_at IS NULL AND purge_after <= $1 "
            "AND NOT EXISTS (SELECT 1 FROM handover h WHERE h.case_id = visitor_case.id "
            "AND h.stage IN ('consented', 'accepted')) "
            "AND NOT EXISTS (SELECT 1 FROM case_event e WHERE e.case_id = visitor_case.id AND NOT e.counted) "
            "ORDER BY purge_after",
            now,
        )
        return [Case.from_row(row) for row in rows]

    async def mark_purged(self, case_id: str, now: int) -> None:
        await self.db.execute("UPDATE visitor_case SET purged_at=$2 WHERE id=$1", case_id, now)

    async def count(self) -> int:
        """Cases of visitors (leftover spare accounts are nobody's case)."""
        return int(await self.db.fetchval("SELECT COUNT(*) FROM visitor_case WHERE state <> 'spare'") or 0)

    async def forget(self, case_id: str) -> None:
        """Delete the case record itself: the last step of its purge."""
        await self.db.execute("DELETE FROM visitor_case WHERE id=$1", case_id)
