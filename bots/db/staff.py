"""Staff accounts and their roles."""

from __future__ import annotations

import time
from dataclasses import dataclass

from asyncpg import Record
from mautrix.util.async_db import Database

from bots.ids import UserID

# A staff role a concern gives (``bots.declarations``): "counsellor" (queue), "outreach"
# (outreach), "partner" (a partner's intake staff, in their handover rooms). The store keeps
# whatever it is given; ``keerpunt staff add`` offers the roles it knows how to make.
Role = str


@dataclass(frozen=True)
class StaffMember:
    user_id: UserID
    role: Role
    partner_id: str | None
    added_at: int
    # The organisation an outreach worker works for (a partner such as Spine), shown on cards.
    organisation: str | None = None
    on_duty: bool = True

    @classmethod
    def from_row(cls, row: Record) -> StaffMember:
        return cls(
            UserID(row["user_id"]),
            row["role"],
            row["partner_id"],
            row["added_at"],
            row["organisation"],
            bool(row["on_duty"]),
        )


class StaffStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(
        self, user_id: UserID, role: Role, partner_id: str | None = None, organisation: str | None = None
    ) -> StaffMember:
        now = int(time.time())
        await self.db.execute(
            "INSERT INTO staff (user_id, role, partner_id, added_at, organisation) VALUES ($1, $2, $3, $4, $5) "
            "ON CONFLICT (user_id) DO UPDATE SET role=excluded.role, partner_id=excluded.partner_id, "
            "organisation=excluded.organisation",
            user_id,
            role,
            partner_id,
            now,
            organisation,
        )
        member = await self.get(user_id)
        assert member is not None
        return member

    async def get(self, user_id: UserID) -> StaffMember | None:
        row = await self.db.fetchrow("SELECT * FROM staff WHERE user_id=$1", user_id)
        return StaffMember.from_row(row) if row else None

    async def all(self, role: Role | None = None) -> list[StaffMember]:
        if role is None:
            rows = await self.db.fetch("SELECT * FROM staff ORDER BY added_at, user_id")
        else:
            rows = await self.db.fetch("SELECT * FROM staff WHERE role=$1 ORDER BY added_at, user_id", role)
        return [StaffMember.from_row(row) for row in rows]

    async def set_duty(self, user_id: UserID, on_duty: bool) -> None:
        await self.db.execute("UPDATE staff SET on_duty=$2 WHERE user_id=$1", user_id, on_duty)

    async def remove(self, user_id: UserID) -> None:
        """No longer staff (``keerpunt staff disable``)."""
        await self.db.execute("DELETE FROM staff WHERE user_id=$1", user_id)
        await self.db.execute("DELETE FROM staff_device WHERE user_id=$1", user_id)

    async def devices(self, user_id: UserID) -> set[str]:
        """The cross-signed devices of a staff member the live cards have reached."""
        rows = await self.db.fetch("SELECT device_id FROM staff_device WHERE user_id=$1", user_id)
        return {row["device_id"] for row in rows}

    async def set_devices(self, user_id: UserID, devices: set[str]) -> None:
        await self.db.execute("DELETE FROM staff_device WHERE user_id=$1", user_id)
        for device in sorted(devices):
            await self.db.execute("INSERT INTO staff_device (user_id, device_id) VALUES ($1, $2)", user_id, device)
