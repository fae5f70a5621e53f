"""Events about a case that staff wrote in a staff room (a ``!note``, a reply in the card's
thread): redacted when the case is purged, so no free text about it outlives it."""

from __future__ import annotations

from mautrix.util.async_db import Database

from bots.ids import EventID, RoomID


class CaseTraceStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(self, case_id: str, room_id: RoomID, event_id: EventID) -> None:
        await self.db.execute(
            "INSERT INTO case_trace (event_id, case_id, room_id) VALUES ($1, $2, $3) ON CONFLICT (event_id) DO NOTHING",
            event_id,
            case_id,
            room_id,
        )

    async def of_case(self, case_id: str) -> list[tuple[RoomID, EventID]]:
        rows = await self.db.fetch("SELECT room_id, event_id FROM case_trace WHERE case_id=$1", case_id)
        return [(RoomID(row["room_id"]), EventID(row["event_id"])) for row in rows]

    async def forget(self, case_id: str, event_id: EventID) -> None:
        await self.db.execute("DELETE FROM case_trace WHERE case_id=$1 AND event_id=$2", case_id, event_id)
