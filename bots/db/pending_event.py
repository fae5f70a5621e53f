"""Encrypted room events the bot could not decrypt yet (their room key is still on its way).

Kept so that persisting the sync token never loses them: after later sync batches the bot
tries them again, and gives up (recording them as undecryptable) after a number of tries or a
while, whichever comes first (``bots.router``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from mautrix.util.async_db import Database

from bots.ids import EventID, RoomID


@dataclass(frozen=True)
class PendingEvent:
    event_id: EventID
    room_id: RoomID
    source: dict[str, Any]
    first_seen: int

    @classmethod
    def from_row(cls, row: Any) -> PendingEvent:
        return cls(EventID(row["event_id"]), RoomID(row["room_id"]), json.loads(row["source"]), row["first_seen"])


class PendingEventStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(self, event_id: EventID, room_id: RoomID, source: dict[str, Any], now: int) -> None:
        await self.db.execute(
            "INSERT INTO pending_event (event_id, room_id, source, first_seen) VALUES ($1, $2, $3, $4) "
            "ON CONFLICT (event_id) DO NOTHING",
            event_id,
            room_id,
            json.dumps(source),
            now,
        )

    async def all(self) -> list[PendingEvent]:
        rows = await self.db.fetch("SELECT * FROM pending_event ORDER BY first_seen, event_id")
        return [PendingEvent.from_row(row) for row in rows]

    async def count_in_room(self, room_id: RoomID) -> int:
        return int(await self.db.fetchval("SELECT COUNT(*) FROM pending_event WHERE room_id=$1", room_id) or 0)

    async def remove(self, event_id: EventID) -> None:
        await self.db.execute("DELETE FROM pending_event WHERE event_id=$1", event_id)
