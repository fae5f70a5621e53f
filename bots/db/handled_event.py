"""Room events the bots have handled: the exactly-once record.

``record`` is called inside the transaction that also writes the event's effects (outbox
rows, case updates); when it returns False the event was handled before and nothing else
may happen.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from mautrix.util.async_db import Database

from bots.ids import EventID, RoomID

Outcome = Literal["handled", "ignored_untrusted", "ignored_unencrypted", "undecryptable", "failed"]


@dataclass(frozen=True)
class HandledEvent:
    event_id: EventID
    room_id: RoomID
    outcome: Outcome
    handled_at: int

    @classmethod
    def from_row(cls, row: Any) -> HandledEvent:
        return cls(EventID(row["event_id"]), RoomID(row["room_id"]), row["outcome"], row["handled_at"])


class HandledEventStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def record(self, event_id: EventID, room_id: RoomID, outcome: Outcome, now: int) -> bool:
        """Record ``event_id``; False when it was recorded before."""
        row = await self.db.fetchrow(
            "INSERT INTO handled_event (event_id, room_id, outcome, handled_at) VALUES ($1, $2, $3, $4) "
            "ON CONFLICT (event_id) DO NOTHING RETURNING event_id",
            event_id,
            room_id,
            outcome,
            now,
        )
        return row is not None

    async def seen(self, event_id: EventID) -> bool:
        return bool(await self.db.fetchval("SELECT 1 FROM handled_event WHERE event_id=$1", event_id))

    async def forget_room(self, room_id: RoomID) -> None:
        """Drop the records of a purged room: its events can never come again."""
        await self.db.execute("DELETE FROM handled_event WHERE room_id=$1", room_id)
        await self.db.execute("DELETE FROM pending_event WHERE room_id=$1", room_id)

    async def in_room(self, room_id: RoomID) -> list[HandledEvent]:
        rows = await self.db.fetch("SELECT * FROM handled_event WHERE room_id=$1 ORDER BY handled_at", room_id)
        return [HandledEvent.from_row(row) for row in rows]

    async def prune(self, handled_before: int) -> None:
        """Forget records old enough that their events can never come again.

        A record matters only while its event can be handed to the bot again: a sync batch
        replayed after a crash (from the last persisted token) or an event parked for its
        room key (given up after 15 minutes). Older records, e.g. of staff commands in the
        queue room, would only keep event IDs about cases that are long closed.
        """
        await self.db.execute("DELETE FROM handled_event WHERE handled_at < $1", handled_before)
