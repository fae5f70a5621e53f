"""Session starts: account and room at once, at most N in Synapse at a time, undone on failure."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from bots.db import Database, Stores
from bots.db.case import CaseStore
from bots.homeserver.admin import Registration, SynapseError
from bots.ids import DeviceID, RoomID, UserID
from bots.sessions.domain import SessionManager, SessionUnavailable, VisitorNames
from bots.sessions.settings import PoolSettings, SessionSettings
from bots.sessions.validation import StartRequest
from bots.visitors.accounts import VisitorAccounts

# Store tests run on SQLite and, when KEERPUNT_TEST_POSTGRES_URL is set, on PostgreSQL.
pytestmark = pytest.mark.pg

NAMES = VisitorNames("Bezoeker", "Chat")
START = StartRequest("nl", "widget")


class Clock:
    def now(self) -> float:
        return time.time()


class FakeSynapse:
    """Stands in for SynapseAdmin in these unit tests: counts what runs at the same time."""

    def __init__(self, *, fail_room: bool = False) -> None:
        self.in_flight = 0
        self.most_in_flight = 0
        self.deactivated: list[str] = []
        self.deleted: list[str] = []
        self.fail_room = fail_room

    async def _busy(self) -> None:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        await asyncio.sleep(0.02)
        self.in_flight -= 1

    async def register(self, localpart: str, password: str, **_: Any) -> Registration:
        await self._busy()
        return Registration(UserID(f"@{localpart}:test"), "token", DeviceID("DEVICE"))

    async def create_room(self, body: Any) -> RoomID:
        await self._busy()
        if self.fail_room:
            raise SynapseError(502, "M_UNKNOWN", "bad gateway")
        return RoomID(f"!{id(body)}-{time.monotonic_ns()}:test")

    async def deactivate(self, user: str, *, erase: bool) -> None:
        self.deactivated.append(user)

    async def delete_room(self, room: str, *, purge: bool = True) -> str:
        self.deleted.append(room)
        return "delete-id"


def _manager(db: Database, synapse: FakeSynapse, starts: int) -> SessionManager:
    stores = Stores.over(db)
    bot = UserID("@keerpunt:test")
    settings = SessionSettings(
        bot, "test", "http://test", "Europe/Amsterdam", 30, starts, PoolSettings(bot, "test", 0, 240, "nl")
    )
    accounts = VisitorAccounts(synapse, stores.cases, Clock())  # type: ignore[arg-type]
    return SessionManager(accounts, stores, Clock(), settings)


async def test_starts_beyond_the_limit_wait_their_turn(db: Database) -> None:
    synapse = FakeSynapse()
    manager = _manager(db, synapse, starts=2)
    sessions = await asyncio.gather(*(manager.start(START, NAMES) for _ in range(6)))
    assert len({s.room_id for s in sessions}) == 6
    # Each start has its register and createRoom in flight together: 2 starts → 4 calls.
    assert synapse.most_in_flight == 4
    cases = CaseStore(db)
    for session in sessions:
        case = await cases.by_room(session.room_id)
        assert case is not None and case.state == "open" and case.visitor == session.user_id


async def test_a_failed_start_deactivates_the_account_and_removes_the_case(db: Database) -> None:
    synapse = FakeSynapse(fail_room=True)
    manager = _manager(db, synapse, starts=1)
    cases = CaseStore(db)
    before = await cases.count()
    try:
        await manager.start(START, NAMES)
    except SessionUnavailable:
        pass
    else:
        raise AssertionError("the start should have failed")
    assert len(synapse.deactivated) == 1 and synapse.deactivated[0].startswith("@visitor-")
    assert await cases.count() == before
