"""Queue-room messages that hang under a case card: thread posts (summary, notes) and reminders.

They are written in the transaction that decides them, before the card may even have been
sent; the card worker (``bots.queue.workers.cards``) moves them to the outbox, in order, once
the card's event ID is known.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from mautrix.util.async_db import Database

from bots.db.sequence import next_seq

Relation = Literal["thread", "reply"]


@dataclass(frozen=True)
class StaffPost:
    seq: int
    case_id: str
    relation: Relation
    content: dict[str, Any] | None
    created_at: int
    txn_id: str | None

    @classmethod
    def from_row(cls, row: Any) -> StaffPost:
        content = json.loads(row["content"]) if row["content"] is not None else None
        return cls(row["seq"], row["case_id"], row["relation"], content, row["created_at"], row["txn_id"])


class StaffPostStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(self, case_id: str, relation: Relation, content: dict[str, Any], now: int) -> None:
        await self.db.execute(
            "INSERT INTO staff_post (seq, case_id, relation, content, created_at) VALUES ($1, $2, $3, $4, $5)",
            next_seq(),
            case_id,
            relation,
            json.dumps(content),
            now,
        )

    async def waiting(self) -> list[StaffPost]:
        rows = await self.db.fetch("SELECT * FROM staff_post WHERE txn_id IS NULL ORDER BY seq")
        return [StaffPost.from_row(row) for row in rows]

    async def handed_over(self, seq: int, txn_id: str) -> None:
        """The post is in the outbox now; its content lives there."""
        await self.db.execute("UPDATE staff_post SET txn_id=$2, content=NULL WHERE seq=$1", seq, txn_id)

    async def of_case(self, case_id: str) -> list[StaffPost]:
        rows = await self.db.fetch("SELECT * FROM staff_post WHERE case_id=$1 ORDER BY seq", case_id)
        return [StaffPost.from_row(row) for row in rows]

    async def forget_case(self, case_id: str) -> None:
        await self.db.execute("DELETE FROM staff_post WHERE case_id=$1", case_id)
