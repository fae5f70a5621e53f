"""A crash or a failing step while creating a session leaves nothing half-created."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest

from bots.db.case import CaseStore
from bots.homeserver.admin import SynapseAdmin, SynapseError
from bots.homeserver.appservice import VisitorAppservice
from bots.ids import RoomID, UserID
from bots.visitors.rooms import case_room_body
from keerpunt.base.config import read_secret
from tests.support.bots import InProcessBots, bots_config
from tests.support.counts import counts
from tests.support.matrix_clients import ClientFactory
from tests.support.synapse import SynapseProcess
from tests.support.visitor import post_session
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.pg]

VALID = {"language": "nl", "entry": "widget"}


async def _admin(clients: ClientFactory, path: str) -> tuple[int, Any]:
    operator = await clients.user("operator", admin=True)
    headers = {"Authorization": f"Bearer {operator.registration.access_token}"}
    async with aiohttp.ClientSession() as http, http.get(clients.synapse.url + path, headers=headers) as resp:
        return resp.status, await resp.json(content_type=None)


@pytest.fixture
async def bots_without_pool(
    synapse: SynapseProcess, tmp_path: Path, bots_database: str
) -> AsyncIterator[InProcessBots]:
    """Every session start registers its own account (the path without ready sessions)."""
    config = bots_config(synapse, tmp_path / "data", bots_database, {"bots": {"api": {"ready_sessions": 0}}})
    harness = InProcessBots(config)
    await harness.start()
    yield harness
    await harness.stop()


async def test_a_failing_sign_in_of_a_ready_session_undoes_its_account_room_and_case(
    bots: InProcessBots, clients: ClientFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    pool = bots.pool
    before = await counts(clients, bots)
    taken = (await pool.store.all())[0]  # the next start gets this one
    assert pool.appservice is not None

    async def login(*args: Any, **kwargs: Any) -> Any:
        raise SynapseError(502, "M_UNKNOWN", "bad gateway")

    monkeypatch.setattr(pool.appservice, "login", login)
    status, body, _ = await post_session(bots.api, VALID)
    assert (status, body) == (503, {"error": "unavailable"})
    monkeypatch.undo()
    after = await counts(clients, bots)  # the pool is topped up again: same numbers
    assert (after.cases, after.active_accounts) == (before.cases, before.active_accounts)
    status, user = await _admin(clients, f"/_synapse/admin/v2/users/{quote(taken.visitor)}")
    assert status == 200 and user["deactivated"] is True and user["erased"] is True
    assert taken.room_id is not None

    async def purged() -> bool:
        return (await _admin(clients, f"/_synapse/admin/v1/rooms/{quote(taken.room_id or '')}"))[0] == 404

    await wait_until(purged, what="the claimed room to be purged")


async def test_without_spares_a_failing_create_room_undoes_the_account_it_registered(
    bots_without_pool: InProcessBots, clients: ClientFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    bots = bots_without_pool
    admin = bots.sessions.admin
    registered: list[UserID] = []
    real_register = bots.sessions.register

    async def register(*args: Any, **kwargs: Any) -> Any:
        reg = await real_register(*args, **kwargs)
        registered.append(reg.user_id)
        return reg

    async def create_room(body: Any) -> RoomID:
        raise SynapseError(502, "M_UNKNOWN", "bad gateway")

    monkeypatch.setattr(bots.sessions, "register", register)
    monkeypatch.setattr(admin, "create_room", create_room)
    before = await counts(clients, bots)
    status, body, _ = await post_session(bots.api, VALID)
    assert (status, body) == (503, {"error": "unavailable"})
    after = await counts(clients, bots)
    assert (after.cases, after.rooms, after.active_accounts) == (before.cases, before.rooms, before.active_accounts)
    (visitor,) = registered
    status, user = await _admin(clients, f"/_synapse/admin/v2/users/{quote(visitor)}")
    assert status == 200 and user["deactivated"] is True and user["erased"] is True


@pytest.mark.fresh_bots("restarts the bots and counts their ready sessions")
async def test_cases_left_creating_by_a_crash_are_undone_at_the_next_start(
    bots: InProcessBots, clients: ClientFactory
) -> None:
    assert bots.service is not None and bots.service.session is not None
    bot_token = bots.service.session.access_token
    server = clients.synapse.server_name
    cases = CaseStore(bots.db)
    now = 1_700_000_000_000

    # 1. The process died right after writing the case.
    await cases.insert("crash-1", "9001", language="nl", entry="widget", campaign=None, now=now)
    # 2. … after recording the visitor's ID, before registering the account.
    await cases.insert("crash-2", "9002", language="nl", entry="widget", campaign=None, now=now)
    await cases.set_visitor("crash-2", UserID(f"@visitor-{secrets.token_hex(16)}:{server}"))
    # 3. … after createRoom returned, before the room was recorded.
    await cases.insert("crash-3", "9003", language="en", entry="widget", campaign=None, now=now)
    localpart = f"visitor-{secrets.token_hex(16)}"
    visitor = UserID(f"@{localpart}:{server}")
    await cases.set_visitor("crash-3", visitor)
    async with aiohttp.ClientSession() as http:
        admin = SynapseAdmin(clients.synapse.url, session=http, access_token=bot_token)
        token = read_secret(bots.config, bots.config.homeserver.visitor_appservice_token_file)
        await VisitorAppservice(admin, token).register(localpart, login=False)
        orphan = await admin.create_room(case_room_body(UserID(bots.user_id), visitor))
    # 4. A closed case whose account was not erased yet.
    open_session = await post_session(bots.api, VALID)
    assert open_session[0] == 201
    closed = await cases.by_visitor(UserID(open_session[1]["user_id"]))
    assert closed is not None
    await cases.close(closed.id, "ended", now, now)

    pool = bots.pool
    await wait_until(lambda: pool.full, what="the ready sessions")
    ready = await pool.store.all()
    assert ready, "ready sessions were made at start"
    await bots.restart()
    cases = CaseStore(bots.db)
    for case_id in ("crash-1", "crash-2", "crash-3"):
        assert await cases.get(case_id) is None
    # Ready sessions hold no token, so nothing of them died with the process: they stay.
    assert await bots.pool.store.all() == ready
    for session in ready:
        status, user = await _admin(clients, f"/_synapse/admin/v2/users/{quote(session.visitor)}")
        assert user["deactivated"] is False, "a ready session was thrown away at a restart"
    status, user = await _admin(clients, f"/_synapse/admin/v2/users/{quote(visitor)}")
    assert status == 200 and user["deactivated"] is True and user["erased"] is True

    async def purged() -> bool:
        return (await _admin(clients, f"/_synapse/admin/v1/rooms/{quote(orphan)}"))[0] == 404

    await wait_until(purged, what="the orphan room to be purged")
    status, user = await _admin(clients, f"/_synapse/admin/v2/users/{quote(open_session[1]['user_id'])}")
    assert user["deactivated"] is True and user["erased"] is True
    again = await cases.get(closed.id)
    assert again is not None and again.erased_at is not None


async def test_a_failing_registration_undoes_the_room_and_the_case(
    bots_without_pool: InProcessBots, clients: ClientFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    bots = bots_without_pool
    admin = bots.sessions.admin
    created: list[RoomID] = []
    real_create = admin.create_room

    async def create_room(body: Any) -> RoomID:
        room = await real_create(body)
        created.append(room)
        return room

    async def register(*args: Any, **kwargs: Any) -> Any:
        raise SynapseError(500, "M_UNKNOWN", "database is down")

    monkeypatch.setattr(admin, "create_room", create_room)
    monkeypatch.setattr(bots.sessions, "register", register)
    before = await counts(clients, bots)
    status, body, _ = await post_session(bots.api, VALID)
    assert (status, body) == (503, {"error": "unavailable"})
    (room,) = created

    async def purged() -> bool:
        return (await _admin(clients, f"/_synapse/admin/v1/rooms/{quote(room)}"))[0] == 404

    await wait_until(purged, what="the room of the failed session to be purged")
    after = await counts(clients, bots)
    assert (after.cases, after.rooms, after.accounts) == (before.cases, before.rooms, before.accounts)
