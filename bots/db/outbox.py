"""Messages the bots are going to send, each with a transaction ID fixed before the first try.

A row is written in the same transaction as the decision to send it; the sender retries it
with the same transaction ID until Synapse accepts it, so a crash or a lost response never
produces a second event. After sending, the content is cleared.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from typing import Any, Literal

from mautrix.util.async_db import Database

from bots.ids import EventID, RoomID

OutboxState = Literal["pending", "sent", "failed"]

_last_seq = 0


def _next_seq() -> int:
    """A strictly increasing sequence (nanoseconds), so messages leave in the order queued."""
    global _last_seq  # noqa: PLW0603 - one process-wide counter is the point
    _last_seq = max(_last_seq + 1, time.time_ns())
    return _last_seq


@dataclass(frozen=True)
class OutboxMessage:
    txn_id: str
    seq: int
    room_id: RoomID
    event_type: str
    content: dict[str, Any] | None
    created_at: int
    attempts: int
    state: OutboxState
    event_id: EventID | None
    sent_at: int | None

    @classmethod
    def from_row(cls, row: Any) -> OutboxMessage:
        return cls(
            txn_id=row["txn_id"],
            seq=row["seq"],
            room_id=RoomID(row["room_id"]),
            event_type=row["event_type"],
            content=json.loads(row["content"]) if row["content"] is not None else None,
            created_at=row["created_at"],
            attempts=row["attempts"],
            state=row["state"],
            event_id=EventID(row["event_id"]) if row["event_id"] else None,
            sent_at=row["sent_at"],
        )


class OutboxStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def enqueue(
        self, room_id: RoomID, event_type: str, content: dict[str, Any], now: int, *, case_id: str | None = None
    ) -> str:
        """Queue a message; ``case_id`` marks a message about a case in a staff room (its card,
        an edit, a post under it), which is redacted when the case is purged."""
        txn_id = f"kp{secrets.token_hex(16)}"
        await self.db.execute(
            "INSERT INTO outbox (txn_id, seq, room_id, event_type, content, created_at, state, case_id) "
            "VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7)",
            txn_id,
            _next_seq(),
            room_id,
            event_type,
            json.dumps(content),
            now,
            case_id,
        )
        return txn_id

    async def about_case(self, case_id: str) -> list[OutboxMessage]:
        """The staff-room messages about a case (see ``enqueue``)."""
        rows = await self.db.fetch("SELECT * FROM outbox WHERE case_id=$1 ORDER BY seq", case_id)
        return [OutboxMessage.from_row(row) for row in rows]

    async def forget_message(self, txn_id: str) -> None:
        await self.db.execute("DELETE FROM outbox WHERE txn_id=$1", txn_id)

    async def pending(self, limit: int = 100) -> list[OutboxMessage]:
        rows = await self.db.fetch("SELECT * FROM outbox WHERE state='pending' ORDER BY seq LIMIT $1", limit)
        return [OutboxMessage.from_row(row) for row in rows]

    async def get(self, txn_id: str) -> OutboxMessage | None:
        row = await self.db.fetchrow("SELECT * FROM outbox WHERE txn_id=$1", txn_id)
        return OutboxMessage.from_row(row) if row else None

    async def in_room(self, room_id: RoomID) -> list[OutboxMessage]:
        rows = await self.db.fetch("SELECT * FROM outbox WHERE room_id=$1 ORDER BY seq", room_id)
        return [OutboxMessage.from_row(row) for row in rows]

    async def attempted(self, txn_id: str) -> None:
        await self.db.execute("UPDATE outbox SET attempts=attempts+1 WHERE txn_id=$1", txn_id)

    async def mark_sent(self, txn_id: str, event_id: EventID, now: int) -> None:
        await self.db.execute(
            "UPDATE outbox SET state='sent', event_id=$2, sent_at=$3, content=NULL WHERE txn_id=$1",
            txn_id,
            event_id,
            now,
        )

    async def mark_failed(self, txn_id: str) -> None:
        await self.db.execute("UPDATE outbox SET state='failed', content=NULL WHERE txn_id=$1", txn_id)

    async def forget_room(self, room_id: RoomID) -> None:
        """Drop every row of a purged room (transaction and event IDs included)."""
        await self.db.execute("DELETE FROM outbox WHERE room_id=$1", room_id)

    async def drop_room(self, room_id: RoomID) -> None:
        """Give up on what is still queued for a room that is gone (purged or closed)."""
        await self.db.execute(
            "UPDATE outbox SET state='failed', content=NULL WHERE room_id=$1 AND state='pending'", room_id
        )

    async def prune(self, sent_before: int) -> None:
        """Forget settled messages (their content is gone already) once a retry can no longer
        need their transaction ID; messages about a case stay until its purge redacts them."""
        await self.db.execute(
            "DELETE FROM outbox WHERE state <> 'pending' AND case_id IS NULL AND created_at < $1", sent_before
        )
