"""The bots' database upgrades from empty and stores staff and rooms (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest

from bots.db import Database, upgrade_table
from bots.db.staff import StaffStore
from bots.db.system_room import SystemRoomStore
from bots.ids import RoomID, UserID

# Store tests run on SQLite and, when KEERPUNT_TEST_POSTGRES_URL is set, on PostgreSQL.
pytestmark = pytest.mark.pg
# The ``db`` fixture is a fresh database per module: the staff and room tables start empty.


async def test_schema_is_at_the_latest_version(db: Database) -> None:
    version = await db.fetchval("SELECT version FROM version")
    assert version == len(upgrade_table.upgrades)


async def test_staff_roles_round_trip_and_update(db: Database) -> None:
    staff = StaffStore(db)
    await staff.add(UserID("@a:x"), "counsellor")
    await staff.add(UserID("@p:x"), "partner", "politie-oost")
    member = await staff.get(UserID("@p:x"))
    assert member is not None and member.role == "partner" and member.partner_id == "politie-oost"
    assert [m.user_id for m in await staff.all("counsellor")] == ["@a:x"]
    await staff.add(UserID("@a:x"), "outreach")
    assert [m.user_id for m in await staff.all("outreach")] == ["@a:x"]
    assert await staff.get(UserID("@nobody:x")) is None


async def test_system_rooms_are_unique_per_kind(db: Database) -> None:
    rooms = SystemRoomStore(db)
    assert await rooms.get("queue") is None
    await rooms.put("queue", RoomID("!q:x"))
    await rooms.put("space", RoomID("!s:x"))
    assert await rooms.all() == {"queue": "!q:x", "space": "!s:x"}
