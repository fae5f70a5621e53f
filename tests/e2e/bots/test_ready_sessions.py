"""Ready sessions (issue 15): claimed once each, with a device nobody had before, repaired after
a crash, and a start without one still works.

Against a real Synapse with Keerpunt's application service for visitor accounts.
"""

from __future__ import annotations

import asyncio
import secrets
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest

from bots.db import Stores
from bots.db.ready_session import ReadySessionStore
from bots.ids import RoomID, UserID
from bots.sessions.pool import claim_ready
from bots.texts import text
from tests.support.bots import BotsProcess, InProcessBots, bots_config, open_database
from tests.support.matrix_clients import ClientFactory
from tests.support.synapse import SynapseProcess
from tests.support.visitor import join, messages_from, new_session, post_session, speak_first
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.pg]

POOL = 6


async def _admin(clients: ClientFactory, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    operator = await clients.user("operator", admin=True)
    headers = {"Authorization": f"Bearer {operator.registration.access_token}"}
    async with (
        aiohttp.ClientSession() as http,
        http.request(method, clients.synapse.url + path, json=body, headers=headers) as resp,
    ):
        return resp.status, await resp.json(content_type=None)


def _user_path(user: str) -> str:
    return f"/_synapse/admin/v2/users/{quote(user)}"


async def _devices(clients: ClientFactory, user: str) -> list[str]:
    status, body = await _admin(clients, "GET", f"/_synapse/admin/v2/users/{quote(user)}/devices")
    assert status == 200, body
    return [d["device_id"] for d in body["devices"]]


async def _membership(clients: ClientFactory, room: str, user: str) -> str | None:
    status, body = await _admin(clients, "GET", f"/_synapse/admin/v1/rooms/{quote(room)}/state")
    assert status == 200, body
    members = [e for e in body["state"] if e["type"] == "m.room.member" and e["state_key"] == user]
    return str(members[0]["content"]["membership"]) if members else None


async def _bots(synapse: SynapseProcess, tmp_path: Path, database: str, size: int) -> InProcessBots:
    config = bots_config(synapse, tmp_path / "data", database, {"bots": {"api": {"ready_sessions": size}}})
    harness = InProcessBots(config)
    await harness.start()
    return harness


@pytest.fixture
async def pooled(synapse: SynapseProcess, tmp_path: Path, bots_database: str) -> AsyncIterator[InProcessBots]:
    harness = await _bots(synapse, tmp_path, bots_database, POOL)
    yield harness
    await harness.stop()


@pytest.fixture
async def unpooled(synapse: SynapseProcess, tmp_path: Path, bots_database: str) -> AsyncIterator[InProcessBots]:
    harness = await _bots(synapse, tmp_path, bots_database, 0)
    yield harness
    await harness.stop()


async def test_concurrent_claims_never_get_the_same_ready_session(pooled: InProcessBots) -> None:
    """Claims race on two database connections (as two API processes would): each ready
    session goes to exactly one case."""
    manager, pool = pooled.sessions, pooled.pool
    await wait_until(lambda: pool.full, within=60, what="the pool to fill")
    ready_rooms = {r.room_id for r in await pool.store.all()}
    assert len(ready_rooms) == POOL
    pool.target = 0  # no refill during the race: exactly POOL sessions to claim
    # More claims than ready sessions, all at once, each for its own 'creating' case: every
    # claim reads the same oldest row first, so they really race for it.
    cases = [f"race-{i}" for i in range(3 * POOL)]
    for i, case_id in enumerate(cases):
        await manager.cases.insert(case_id, f"8{i:03d}", language="nl", entry="widget", campaign=None, now=1)
    other = await open_database(pooled.config)
    try:
        both = (manager.stores, Stores.over(other))
        claimed = await asyncio.gather(
            *(claim_ready(both[i % 2], case_id, 0) for i, case_id in enumerate(cases)), return_exceptions=True
        )
    finally:
        await other.stop()
    errors = [c for c in claimed if isinstance(c, BaseException)]
    assert not errors, errors
    claimed = [c for c in claimed if not isinstance(c, BaseException)]
    got = [c for c in claimed if c is not None]
    assert len(got) == POOL, "every ready session is claimed, and only those"
    rooms = Counter(c.room_id for c in got)
    assert set(rooms) == ready_rooms and set(rooms.values()) == {1}, "a ready session went to two cases"
    assert len({c.visitor for c in got}) == POOL
    # Each case holds the account and room of the one it got; the others hold nothing.
    for case_id, ready in zip(cases, claimed, strict=True):
        case = await manager.cases.get(case_id)
        assert case is not None
        assert (case.visitor, case.room_id) == ((ready.visitor, ready.room_id) if ready else (None, None))
    assert await pool.store.all() == []


async def test_concurrent_starts_through_the_api_each_get_their_own_room(
    pooled: InProcessBots, clients: ClientFactory
) -> None:
    pool = pooled.pool
    await wait_until(lambda: pool.full, within=60, what="the pool to fill")
    ready_rooms = {r.room_id for r in await pool.store.all()}
    started = await asyncio.gather(*(new_session(pooled.api) for _ in range(POOL + 3)))
    rooms = Counter(s["room_id"] for s in started)
    assert set(rooms.values()) == {1}, "two visitors got the same room"
    assert len({s["user_id"] for s in started}) == len(started)
    assert ready_rooms <= set(rooms), "starts made their own rooms while ready ones were left"


async def test_a_pooled_start_hands_over_a_device_the_pool_never_had(
    pooled: InProcessBots, clients: ClientFactory
) -> None:
    pool = pooled.pool
    await wait_until(lambda: pool.full, within=60, what="the pool to fill")
    (oldest, *_) = await pool.store.all()
    assert await _devices(clients, oldest.visitor) == [], "a ready account has a device (and so a token)"
    # Joined already: the browser's first sync has the room and its members (issue 28).
    assert await _membership(clients, oldest.room_id, oldest.visitor) == "join"

    session = await new_session(pooled.api, language="en")
    assert (session["user_id"], session["room_id"]) == (oldest.visitor, oldest.room_id)
    assert await _devices(clients, oldest.visitor) == [session["device_id"]]
    async with (
        aiohttp.ClientSession() as http,
        http.get(
            clients.synapse.url + "/_matrix/client/v3/account/whoami",
            headers={"Authorization": f"Bearer {session['access_token']}"},
        ) as resp,
    ):
        mine = await resp.json()
    assert (mine["user_id"], mine["device_id"]) == (session["user_id"], session["device_id"])
    # Made in the default language (nl), claimed in English: the name follows the visitor.
    status, user = await _admin(clients, "GET", f"/_synapse/admin/v2/users/{quote(session['user_id'])}")
    assert status == 200 and user["displayname"] == text("en", "visitor.display_name")
    # The whole way: join, speak first, greeted (in English).
    visitor = await clients.visitor(session)
    await join(visitor, session["room_id"], pooled.user_id)
    await speak_first(visitor, session["room_id"], "en")
    got, failed = await messages_from(visitor, session["room_id"], pooled.user_id)
    assert got and not failed
    await wait_until(lambda: pool.full, within=60, what="the pool to be topped up again")


async def test_without_ready_sessions_a_start_makes_its_account_through_the_appservice(
    unpooled: InProcessBots, clients: ClientFactory
) -> None:
    assert await unpooled.pool.store.all() == []
    session = await new_session(unpooled.api)
    status, user = await _admin(clients, "GET", f"/_synapse/admin/v2/users/{quote(session['user_id'])}")
    assert status == 200 and user["appservice_id"] == "keerpunt-visitors"
    assert user["displayname"] == text("nl", "visitor.display_name")
    assert await _devices(clients, session["user_id"]) == [session["device_id"]]


async def test_an_empty_pool_falls_back_to_making_the_session(pooled: InProcessBots, clients: ClientFactory) -> None:
    pool = pooled.pool
    await wait_until(lambda: pool.full, within=60, what="the pool to fill")
    ready_rooms = {r.room_id for r in await pool.store.all()}
    pool.target = 0  # no refill: the pool runs dry and stays dry
    first = await asyncio.gather(*(new_session(pooled.api) for _ in range(POOL)))
    assert {s["room_id"] for s in first} == ready_rooms
    status, body, _ = await post_session(pooled.api, {"language": "nl", "entry": "widget"})
    assert status == 201 and body["room_id"] not in ready_rooms
    assert await _devices(clients, body["user_id"]) == [body["device_id"]]


async def test_the_shared_secret_cannot_register_in_the_visitor_namespace(clients: ClientFactory) -> None:
    """The application service's namespace is exclusive: nobody else makes visitor accounts."""
    admin = await clients.admin()
    with pytest.raises(Exception, match="M_EXCLUSIVE"):
        await admin.register(f"visitor-{secrets.token_hex(16)}", secrets.token_urlsafe(16))


# --- a crash while the pool refills ----------------------------------------------------------


@pytest.mark.parametrize("point", ["ready.registered", "ready.room_made"])
async def test_sigkill_while_the_pool_refills_leaves_no_orphan_after_restart(
    synapse: SynapseProcess, tmp_path: Path, bots_database: str, clients: ClientFactory, point: str
) -> None:
    proc = BotsProcess(synapse, tmp_path, bots_database, {"bots": {"api": {"ready_sessions": 3}}})
    proc.spawn({"KEERPUNT_CRASH_AT": point})
    assert proc.proc is not None
    await wait_until(lambda: proc.proc is not None and proc.proc.poll() is not None, within=60, what="the crash")
    assert point in proc.log_file.read_text()

    db = await open_database(proc.config)
    try:
        left = [r for r in await ReadySessionStore(db).all() if r.state != "ready"]
    finally:
        await db.stop()
    assert left, "the crash left no half-made ready session: the test tests nothing"
    visitors = [r.visitor for r in left]
    registered = [
        v for v in visitors if (await _admin(clients, "GET", f"/_synapse/admin/v2/users/{quote(v)}"))[0] == 200
    ]
    assert registered, "no account was registered before the crash"
    bot = UserID(proc.config.bot_user_id)
    orphans = await _orphan_rooms(clients, bot, set(visitors))
    if point == "ready.room_made":
        assert orphans, "the crash left no room: the test tests nothing"

    await proc.start()
    try:
        for visitor in registered:
            _, user = await _admin(clients, "GET", _user_path(visitor))
            assert user["deactivated"] is True and user["erased"] is True, "an orphan account outlived the restart"
        for room in orphans:

            async def purged(room: RoomID = room) -> bool:
                return (await _admin(clients, "GET", f"/_synapse/admin/v1/rooms/{quote(room)}"))[0] == 404

            await wait_until(purged, within=30, what="the orphan room to be purged")
        db = await open_database(proc.config)
        try:

            async def refilled() -> bool:
                rows = await ReadySessionStore(db).all()
                return len(rows) == 3 and all(r.state == "ready" for r in rows)

            await wait_until(refilled, within=60, what="the pool to be refilled")
            assert not {r.visitor for r in await ReadySessionStore(db).all()} & set(visitors)
        finally:
            await db.stop()
        assert "Traceback" not in proc.log_file.read_text().split(point)[-1]
    finally:
        proc.terminate()


async def _orphan_rooms(clients: ClientFactory, bot: UserID, visitors: set[UserID]) -> list[RoomID]:
    """Rooms the bot is in where one of ``visitors`` is a member (invited)."""
    status, body = await _admin(clients, "GET", f"/_synapse/admin/v1/users/{quote(bot)}/joined_rooms")
    assert status == 200, body
    found = []
    for room in body["joined_rooms"]:
        _, state = await _admin(clients, "GET", f"/_synapse/admin/v1/rooms/{quote(room)}/state")
        if any(e["type"] == "m.room.member" and e["state_key"] in visitors for e in state["state"]):
            found.append(RoomID(room))
    return found
