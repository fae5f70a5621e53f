"""A return against Synapse's production login limits (review N3, the review's third missing
test) and the return code's own rate limits (review N8).

Synapse here keeps its own ``rc_login`` (5 logins per address, then one every ~333 s; the test
overlay's raised limits are dropped) and takes the client address from ``X-Forwarded-For``, as
behind Keerpunt's proxy, so the test speaks from the networks it names.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest

from bots.db.case import CaseStore
from bots.ids import RoomID
from tests.support.bots import InProcessBots
from tests.support.matrix_clients import ClientFactory
from tests.support.return_code import ENABLED, b64, put_dehydrated_device, synapse_with_return_codes
from tests.support.synapse import SynapseProcess
from tests.support.visitor import new_session, post_session

pytestmark = pytest.mark.integration

VISITOR_NET = "198.51.100.7"  # the returning visitor's network (as the proxy passes it on)
OTHER_NET = "203.0.113.9"  # the same visitor a few minutes later, on mobile data
CODE, BACK = "/api/v1/sessions/code", "/api/v1/sessions/return"


@pytest.fixture(scope="module")
def synapse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SynapseProcess]:
    yield from synapse_with_return_codes(tmp_path_factory, production_login=True)


@pytest.fixture(scope="module")
def bots_extra() -> dict[str, Any]:
    return ENABLED


async def login(base: str, user: str, password: str, network: str) -> tuple[int, Any]:
    body = {"type": "m.login.password", "identifier": {"type": "m.id.user", "user": user}, "password": password}
    headers = {"X-Forwarded-For": network}
    async with (
        aiohttp.ClientSession() as http,
        http.post(base + "/_matrix/client/v3/login", json=body, headers=headers) as resp,
    ):
        return resp.status, await resp.json(content_type=None)


async def dormant_case(bots: InProcessBots, base: str) -> tuple[dict[str, Any], dict[str, str], str]:
    """A session that made a code (with a dehydrated device) and ended: dormant."""
    session = await new_session(bots.api)
    token, user = session["access_token"], session["user_id"]
    await put_dehydrated_device(base, token, user)
    login_secret = b64(os.urandom(32))
    values = {"lookup": b64(os.urandom(32)), "verifier": b64(os.urandom(32))}
    auth = {"Authorization": f"Bearer {token}"}
    status, _, _ = await post_session(bots.api, {**values, "login": login_secret}, headers=auth, path=CODE)
    assert status == 200
    status, _, _ = await post_session(bots.api, {"reason": "ended"}, headers=auth, path="/api/v1/sessions/end")
    assert status == 204
    case = await CaseStore(bots.db).by_room(RoomID(session["room_id"]))
    assert case is not None and case.state == "dormant"
    return session, values, login_secret


async def test_a_return_whose_login_synapse_refuses_is_not_lost(bots: InProcessBots, clients: ClientFactory) -> None:
    base = clients.synapse.url
    session, values, login_secret = await dormant_case(bots, base)
    # Junk logins (each to another name, so only the address is limited) from the visitor's
    # network empty Synapse's login bucket for that address.
    for n in range(20):
        status, _ = await login(base, f"@nobody{n}:localhost", "wrong", VISITOR_NET)
        if status == 429:
            break
    assert status == 429, "the production login limit was never reached"

    status, back, _ = await post_session(bots.api, values, path=BACK)
    assert status == 200 and back["user_id"] == session["user_id"]
    status, refused = await login(base, back["user_id"], login_secret, VISITOR_NET)
    assert status == 429 and refused["errcode"] == "M_LIMIT_EXCEEDED"
    assert int(refused["retry_after_ms"]) > 0

    # The code still works: the same code and word bring the visitor back again.
    status, again, _ = await post_session(bots.api, values, path=BACK)
    assert status == 200
    assert (again["user_id"], again["room_id"], again["key"]) == (back["user_id"], back["room_id"], back["key"])
    # A few minutes later (here: from another network) the login goes through.
    status, signed_in = await login(base, back["user_id"], login_secret, OTHER_NET)
    assert status == 200, signed_in
    # Now the returning device exists: the code is used up, refused like an unknown one.
    status, answer, _ = await post_session(bots.api, values, path=BACK)
    assert (status, answer) == (403, {"error": "unknown_code"})
    case = await CaseStore(bots.db).by_room(RoomID(session["room_id"]))
    assert case is not None and case.state == "open"


async def test_a_flood_of_returns_blocks_neither_a_new_code_nor_a_new_chat(bots: InProcessBots) -> None:
    unknown = {"lookup": b64(os.urandom(32)), "verifier": b64(os.urandom(32))}
    statuses = [(await post_session(bots.api, unknown, path=BACK))[0] for _ in range(15)]
    assert statuses[-1] == 429 and set(statuses) == {403, 429}
    # The same client can still start a chat and make a code for it.
    session = await new_session(bots.api)
    values = {"lookup": b64(os.urandom(32)), "verifier": b64(os.urandom(32)), "login": b64(os.urandom(32))}
    auth = {"Authorization": f"Bearer {session['access_token']}"}
    status, made, _ = await post_session(bots.api, values, headers=auth, path=CODE)
    assert status == 200 and len(made["key"]) == 43
