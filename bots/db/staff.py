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
# What a member speaks when nobody said: staff work in Dutch or English.
DEFAULT_LANGUAGES: tuple[str, ...] = ("nl", "en")


def parse_languages(value: str | None) -> tuple[str, ...]:
    """``"nl,en,pl"`` as a tuple; None or empty: the default."""
    found = tuple(part for part in (value or "").split(",") if part)
    return found or DEFAULT_LANGUAGES


@dataclass(frozen=True)
class StaffMember:
    user_id: UserID
    role: Role
    partner_id: str | None
    added_at: int
    # The organisation an outreach worker works for (a partner such as Spine), shown on cards.
    organisation: str | None = None
    on_duty: bool = True
    # A counsellor's shift (bots.counsellors): their own limit of simultaneous chats (None: the
    # configured default), since when they are on a break (None: not on one), and whether they
    # may read along with colleagues (open supervision).
    capacity: int | None = None
    break_since: int | None = None
    supervisor: bool = False
    # The languages they speak (routing by language); Dutch and English unless set.
    languages: tuple[str, ...] = DEFAULT_LANGUAGES

    @property
    def on_break(self) -> bool:
        return self.break_since is not None

    @classmethod
    def from_row(cls, row: Record) -> StaffMember:
        return cls(
            UserID(row["user_id"]),
            row["role"],
            row["partner_id"],
            row["added_at"],
            row["organisation"],
            bool(row["on_duty"]),
            row["capacity"],
            row["break_since"],
            bool(row["supervisor"]),
            parse_languages(row["languages"]),
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

    # A counsellor's shift

    async def set_capacity(self, user_id: UserID, capacity: int | None) -> None:
        await self.db.execute("UPDATE staff SET capacity=$2 WHERE user_id=$1", user_id, capacity)

    async def start_break(self, user_id: UserID, now: int) -> bool:
        """On a break from ``now``; False when they were on one already."""
        row = await self.db.fetchrow(
            "UPDATE staff SET break_since=$2 WHERE user_id=$1 AND break_since IS NULL RETURNING user_id", user_id, now
        )
        return row is not None

    async def end_break(self, user_id: UserID) -> int | None:
        """Back from a break: when it started; None when they were not on one."""
        member = await self.get(user_id)
        if member is None or member.break_since is None:
            return None
        row = await self.db.fetchrow(
            "UPDATE staff SET break_since=NULL WHERE user_id=$1 AND break_since=$2 RETURNING user_id",
            user_id,
            member.break_since,
        )
        return member.break_since if row is not None else None

    async def set_languages(self, user_id: UserID, languages: tuple[str, ...]) -> None:
        await self.db.execute("UPDATE staff SET languages=$2 WHERE user_id=$1", user_id, ",".join(languages))

    async def set_supervisor(self, user_id: UserID, supervisor: bool) -> None:
        await self.db.execute("UPDATE staff SET supervisor=$2 WHERE user_id=$1", user_id, supervisor)

    # The live cards owed to a new cross-signing identity (bots.queue: first device, reset)

    async def owe_cards(self, user_id: UserID) -> bool:
        """The live cards are owed to this counsellor's new identity; False if not a counsellor."""
        row = await self.db.fetchrow(
            "UPDATE staff SET cards_owed=true WHERE user_id=$1 AND role='counsellor' RETURNING user_id", user_id
        )
        return row is not None

    async def cards_owed(self) -> list[UserID]:
        rows = await self.db.fetch("SELECT user_id FROM staff WHERE cards_owed ORDER BY user_id")
        return [UserID(row["user_id"]) for row in rows]

    async def owes_cards(self, user_id: UserID) -> bool:
        return bool(await self.db.fetchval("SELECT cards_owed FROM staff WHERE user_id=$1", user_id))

    async def cards_paid(self, user_id: UserID) -> None:
        await self.db.execute("UPDATE staff SET cards_owed=false WHERE user_id=$1", user_id)

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
