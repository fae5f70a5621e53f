"""The staff rooms the system bot owns (queue room, staff Space)."""

from __future__ import annotations

from mautrix.util.async_db import Database

from bots.ids import RoomID


class SystemRoomStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, kind: str) -> RoomID | None:
        value = await self.db.fetchval("SELECT room_id FROM system_room WHERE kind=$1", kind)
        return RoomID(value) if value else None

    async def put(self, kind: str, room_id: RoomID) -> None:
        await self.db.execute(
            "INSERT INTO system_room (kind, room_id) VALUES ($1, $2) "
            "ON CONFLICT (kind) DO UPDATE SET room_id=excluded.room_id",
            kind,
            room_id,
        )

    async def delete(self, kind: str) -> None:
        await self.db.execute("DELETE FROM system_room WHERE kind=$1", kind)

    async def kind_of(self, room_id: RoomID) -> str | None:
        value = await self.db.fetchval("SELECT kind FROM system_room WHERE room_id=$1", room_id)
        return str(value) if value is not None else None

    async def all(self) -> dict[str, RoomID]:
        rows = await self.db.fetch("SELECT kind, room_id FROM system_room")
        return {row["kind"]: RoomID(row["room_id"]) for row in rows}
