"""A case left dormant by a return code, and woken again (docs/return-code.md): the case
record's state moves, and when it went dormant and came back is kept for the staff's "after N
days". Columns of ``visitor_case``."""

from __future__ import annotations

from dataclasses import dataclass

from mautrix.util.async_db import Database


@dataclass(frozen=True)
class Dormancy:
    case_id: str
    dormant_at: int | None
    returned_at: int | None

    def days_away(self, now: int) -> int:
        """Whole days between going dormant and coming back (or ``now``)."""
        return max(0, ((self.returned_at or now) - (self.dormant_at or now)) // 86_400_000)


class DormancyStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, case_id: str) -> Dormancy | None:
        row = await self.db.fetchrow("SELECT id, dormant_at, returned_at FROM visitor_case WHERE id=$1", case_id)
        return Dormancy(row["id"], row["dormant_at"], row["returned_at"]) if row else None

    async def go_dormant(self, case_id: str, now: int, until: int, *, reason: str = "dormant") -> bool:
        """open → dormant: the visitor ended with a code (``reason``: ``dormant``,
        ``dormant_quick_exit`` in a hurry, ``async`` to be answered later). ``purge_after`` is
        when the case ends (the code's expiry, or ``async.keep_days`` for a message nobody has
        answered yet), whatever happens to the code."""
        row = await self.db.fetchrow(
            "UPDATE visitor_case SET state='dormant', close_reason=$4, closed_at=$2, purge_after=$3, "
            "dormant_at=$2, returned_at=NULL, idle_warned_at=NULL WHERE id=$1 AND state='open' RETURNING id",
            case_id,
            now,
            until,
            reason,
        )
        return row is not None

    async def expired(self, now: int) -> list[str]:
        """Dormant cases past their expiry (``purge_after``)."""
        rows = await self.db.fetch(
            "SELECT id FROM visitor_case WHERE state='dormant' AND purge_after <= $1 ORDER BY purge_after", now
        )
        return [row["id"] for row in rows]

    async def wake(self, case_id: str, now: int) -> bool:
        """dormant → open: the visitor came back with the code."""
        row = await self.db.fetchrow(
            "UPDATE visitor_case SET state='open', close_reason=NULL, closed_at=NULL, purge_after=NULL, "
            "returned_at=$2, last_visitor_at=$2, last_message_at=$2 WHERE id=$1 AND state='dormant' RETURNING id",
            case_id,
            now,
        )
        return row is not None

    async def end_dormant(self, case_id: str, reason: str, now: int) -> bool:
        """dormant → closed: the code expired or was guessed wrong too often; purged at once."""
        row = await self.db.fetchrow(
            "UPDATE visitor_case SET state='closed', close_reason=$2, closed_at=$3, purge_after=$3 "
            "WHERE id=$1 AND state='dormant' RETURNING id",
            case_id,
            reason,
            now,
        )
        return row is not None
