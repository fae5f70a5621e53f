"""The log of every case transition: what happened, when, and which staff member did it.

Details are enumerated values (an option id, an outcome, a departure), never free text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mautrix.util.async_db import Database

from bots.db.sequence import next_seq
from bots.ids import UserID


@dataclass(frozen=True)
class CaseEvent:
    seq: int
    case_id: str
    happened_at: int
    kind: str
    actor: UserID | None
    detail: str | None

    @classmethod
    def from_row(cls, row: Any) -> CaseEvent:
        actor = UserID(row["actor"]) if row["actor"] else None
        return cls(row["seq"], row["case_id"], row["happened_at"], row["kind"], actor, row["detail"])


class CaseLogStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(
        self, case_id: str, kind: str, now: int, actor: UserID | None = None, detail: str | None = None
    ) -> None:
        await self.db.execute(
            "INSERT INTO case_event (seq, case_id, happened_at, kind, actor, detail) VALUES ($1, $2, $3, $4, $5, $6)",
            next_seq(),
            case_id,
            now,
            kind,
            actor,
            detail,
        )

    async def of_case(self, case_id: str) -> list[CaseEvent]:
        rows = await self.db.fetch("SELECT * FROM case_event WHERE case_id=$1 ORDER BY seq", case_id)
        return [CaseEvent.from_row(row) for row in rows]

    async def uncounted(self, limit: int = 500) -> list[CaseEvent]:
        """Events the statistics have not counted yet, oldest first."""
        rows = await self.db.fetch("SELECT * FROM case_event WHERE NOT counted ORDER BY seq LIMIT $1", limit)
        return [CaseEvent.from_row(row) for row in rows]

    async def mark_counted(self, seq: int) -> bool:
        """Mark one event counted; False when it was counted before (exactly once)."""
        row = await self.db.fetchrow(
            "UPDATE case_event SET counted=true WHERE seq=$1 AND NOT counted RETURNING seq", seq
        )
        return row is not None

    async def forget_case(self, case_id: str) -> None:
        await self.db.execute("DELETE FROM case_event WHERE case_id=$1", case_id)
