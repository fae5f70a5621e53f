"""How far a case's visitor got in the triage questions, and their answers (option ids only)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mautrix.util.async_db import Database


@dataclass(frozen=True)
class TriageProgress:
    case_id: str
    index: int
    reasks: int
    done: bool

    @classmethod
    def from_row(cls, row: Any) -> TriageProgress:
        return cls(row["case_id"], row["triage_index"], row["triage_reasks"], bool(row["triage_done"]))


class TriageStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, case_id: str) -> TriageProgress | None:
        row = await self.db.fetchrow(
            "SELECT case_id, triage_index, triage_reasks, triage_done FROM queue_case WHERE case_id=$1", case_id
        )
        return TriageProgress.from_row(row) if row else None

    async def save(self, case_id: str, index: int, reasks: int, done: bool) -> None:
        await self.db.execute(
            "UPDATE queue_case SET triage_index=$2, triage_reasks=$3, triage_done=$4 WHERE case_id=$1",
            case_id,
            index,
            reasks,
            done,
        )

    async def add_answer(self, case_id: str, question: str, option: str, now: int) -> None:
        await self.db.execute(
            "INSERT INTO triage_answer (case_id, question, option_id, answered_at) VALUES ($1, $2, $3, $4) "
            "ON CONFLICT (case_id, question) DO UPDATE SET option_id=excluded.option_id, "
            "answered_at=excluded.answered_at",
            case_id,
            question,
            option,
            now,
        )

    async def answers(self, case_id: str) -> dict[str, str]:
        rows = await self.db.fetch("SELECT question, option_id FROM triage_answer WHERE case_id=$1", case_id)
        return {row["question"]: row["option_id"] for row in rows}

    async def forget_case(self, case_id: str) -> None:
        """Delete the case's triage answers: part of its purge."""
        await self.db.execute("DELETE FROM triage_answer WHERE case_id=$1", case_id)
