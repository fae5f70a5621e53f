"""Ending a session: the case closes, the account is erased, the room is purged when due."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import aiohttp
import pytest

from bots.db.case import CaseStore
from bots.db.handled_event import HandledEventStore
from bots.db.outbox import OutboxStore
from bots.db.pinned_identity import PinnedIdentityStore
from bots.ids import RoomID, UserID
from bots.visitors.closing import DAY_MS
from tests.support.bots import FakeClock, InProcessBots
from tests.support.matrix_clients import ClientFactory
from tests.support.visitor import post_session, start_and_greet
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration


async def _admin(clients: ClientFactory, method: str, path: str) -> tuple[int, Any]:
    operator = await clients.user("operator", admin=True)
    headers = {"Authorization": f"Bearer {operator.registration.access_token}"}
    async with (
        aiohttp.ClientSession() as http,
        http.request(method, clients.synapse.url + path, headers=headers) as resp,
    ):
        return resp.status, await resp.json(content_type=None)


async def _end(api: str, token: str | None, body: Any = None) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    status, data, _ = await post_session(api, body, headers=headers, path="/api/v1/sessions/end")
    return status, data


async def test_end_closes_the_case_and_erases_the_account(bots: InProcessBots, clients: ClientFactory) -> None:
    session, visitor, _ = await start_and_greet(clients, bots.api, bots.user_id)
    assert await _end(bots.api, None) == (401, {"error": "unauthorized"})
    assert await _end(bots.api, session["access_token"], {"reason": "tomorrow"}) == (400, {"error": "bad_request"})
    status, user = await _admin(clients, "GET", f"/_synapse/admin/v2/users/{quote(visitor.user_id)}")
    assert status == 200 and user["deactivated"] is False

    assert await _end(bots.api, session["access_token"], {"reason": "quick_exit"}) == (204, None)
    status, user = await _admin(clients, "GET", f"/_synapse/admin/v2/users/{quote(visitor.user_id)}")
    assert status == 200
    assert user["deactivated"] is True
    assert user["erased"] is True
    case = await CaseStore(bots.db).by_room(RoomID(session["room_id"]))
    assert case is not None and case.state == "closed" and case.close_reason == "quick_exit"
    assert case.closed_at is not None and case.purge_after == case.closed_at + 30 * DAY_MS
    assert case.erased_at is not None
    # The token is gone with the account; a second call changes nothing.
    assert await _end(bots.api, session["access_token"]) == (401, {"error": "unauthorized"})


async def test_a_visitor_who_signs_out_without_the_end_request_is_a_quick_exit(
    bots: InProcessBots, clients: ClientFactory
) -> None:
    """The widget's logout raced ahead of its end request (or the request was lost): the device
    list change is enough for the bots to close the case and erase the account."""
    session, visitor, _ = await start_and_greet(clients, bots.api, bots.user_id)
    await visitor.client.logout()
    cases = CaseStore(bots.db)

    async def closed() -> bool:
        case = await cases.by_room(RoomID(session["room_id"]))
        return case is not None and case.close_reason == "quick_exit" and case.erased_at is not None

    await wait_until(closed, within=30, what="the case to close as a quick exit")
    status, user = await _admin(clients, "GET", f"/_synapse/admin/v2/users/{quote(session['user_id'])}")
    assert status == 200 and user["deactivated"] is True


async def test_end_refuses_tokens_of_anyone_but_a_visitor(bots: InProcessBots, clients: ClientFactory) -> None:
    counsellor = await clients.user("counsellor")
    assert await _end(bots.api, counsellor.registration.access_token) == (401, {"error": "unauthorized"})
    assert await _end(bots.api, "not-a-token") == (401, {"error": "unauthorized"})
    status, user = await _admin(clients, "GET", f"/_synapse/admin/v2/users/{quote(counsellor.user_id)}")
    assert status == 200 and user["deactivated"] is False


@pytest.mark.fresh_bots("moves the clock 30 days and counts every room the retention purges")
async def test_the_room_is_purged_once_the_retention_period_has_passed(
    bots: InProcessBots, clients: ClientFactory
) -> None:
    session, _visitor, _ = await start_and_greet(clients, bots.api, bots.user_id)
    room = session["room_id"]
    assert await HandledEventStore(bots.db).in_room(RoomID(room)) != []
    assert await PinnedIdentityStore(bots.db).get(UserID(session["user_id"])) is not None
    assert await _end(bots.api, session["access_token"]) == (204, None)
    retention = bots.retention
    assert isinstance(bots.clock, FakeClock)
    bots.clock.advance(29 * 86400)
    assert await retention.run_once() == 0
    status, _ = await _admin(clients, "GET", f"/_synapse/admin/v1/rooms/{quote(room)}")
    assert status == 200, "purged too early"

    bots.clock.advance(1 * 86400 + 60)
    assert await retention.run_once() == 1
    status, _ = await _admin(clients, "GET", f"/_synapse/admin/v1/rooms/{quote(room)}")
    assert status == 404
    # Nothing of the case is left but its counts (tests/core/test_purge.py reads every table).
    assert await CaseStore(bots.db).by_room(RoomID(room)) is None
    assert await retention.run_once() == 0
    # The bots' own traces of the room went with it.
    assert await HandledEventStore(bots.db).in_room(RoomID(room)) == []
    assert await OutboxStore(bots.db).in_room(RoomID(room)) == []
    assert await PinnedIdentityStore(bots.db).get(UserID(session["user_id"])) is None
