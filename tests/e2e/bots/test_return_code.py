"""The return code against a real Synapse (docs/return-code.md): the password set without
signing anyone out, the lock on a dormant account, the dehydrated device kept, the return API
answering alike for every kind of wrong code. The widget's half (4S, backup, rehydration) is
not built yet."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest

from bots.db.case import CaseStore
from bots.ids import RoomID
from bots.texts import text
from tests.support.bots import InProcessBots
from tests.support.matrix_clients import ClientFactory
from tests.support.return_code import ENABLED, b64, synapse_with_return_codes
from tests.support.synapse import SynapseProcess
from tests.support.visitor import post_session, start_and_greet

pytestmark = pytest.mark.integration

DEHYDRATED = "/_matrix/client/unstable/org.matrix.msc3814.v1/dehydrated_device"


@pytest.fixture(scope="module")
def synapse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SynapseProcess]:
    yield from synapse_with_return_codes(tmp_path_factory)


@pytest.fixture(scope="module")
def bots_extra() -> dict[str, Any]:
    return ENABLED


async def call(base: str, method: str, path: str, token: str | None, body: Any = None) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with aiohttp.ClientSession() as http, http.request(method, base + path, json=body, headers=headers) as resp:
        return resp.status, await resp.json(content_type=None)


async def login(base: str, user: str, password: str) -> tuple[int, Any]:
    body = {"type": "m.login.password", "identifier": {"type": "m.id.user", "user": user}, "password": password}
    return await call(base, "POST", "/_matrix/client/v3/login", None, body)


async def test_a_code_keeps_the_account_locked_and_dormant_until_the_visitor_returns(
    bots: InProcessBots, clients: ClientFactory
) -> None:
    base = clients.synapse.url
    operator = (await clients.user("operator", admin=True)).registration.access_token
    session, visitor, _ = await start_and_greet(clients, bots.api, bots.user_id)
    token, user = session["access_token"], session["user_id"]
    # What the widget's startDehydration() puts: a second device of the visitor's own.
    status, made = await call(
        base,
        "PUT",
        DEHYDRATED,
        token,
        {
            "device_id": "DEHYDRATEDX",
            "device_data": {"algorithm": "m.dehydration.v1.olm"},
            "initial_device_display_name": text("nl", "visitor.device_name"),
            # Stand-in keys (the widget's Rust crypto makes real, cross-signed ones).
            "device_keys": {
                "user_id": user,
                "device_id": "DEHYDRATEDX",
                "algorithms": ["m.olm.v1.curve25519-aes-sha2", "m.megolm.v1.aes-sha2"],
                "keys": {"curve25519:DEHYDRATEDX": b64(os.urandom(32)), "ed25519:DEHYDRATEDX": b64(os.urandom(32))},
                "signatures": {user: {"ed25519:DEHYDRATEDX": b64(os.urandom(64))}},
            },
        },
    )
    assert status == 200, made
    lookup, verifier, login_secret = os.urandom(32), os.urandom(32), b64(os.urandom(32))
    body = {"lookup": b64(lookup), "verifier": b64(verifier), "login": login_secret}
    auth = {"Authorization": f"Bearer {token}"}

    status, _, _ = await post_session(bots.api, {**body, "extra": 1}, headers=auth, path="/api/v1/sessions/code")
    assert status == 400
    status, made, _ = await post_session(bots.api, body, headers=auth, path="/api/v1/sessions/code")
    assert status == 200 and len(made["key"]) == 43
    # The password is set without signing the widget out (logout_devices: false).
    assert (await call(base, "GET", "/_matrix/client/v3/account/whoami", token))[0] == 200

    status, _, _ = await post_session(bots.api, {"reason": "ended"}, headers=auth, path="/api/v1/sessions/end")
    assert status == 204
    case = await CaseStore(bots.db).by_room(RoomID(session["room_id"]))
    assert case is not None and case.state == "dormant" and case.erased_at is None
    status, account = await call(base, "GET", f"/_synapse/admin/v2/users/{quote(user)}", operator)
    assert account["locked"] is True and account["deactivated"] is False
    status, devices = await call(base, "GET", f"/_synapse/admin/v2/users/{quote(user)}/devices", operator)
    assert [d["device_id"] for d in devices["devices"]] == ["DEHYDRATEDX"]
    status, refused = await login(base, user, login_secret)
    assert (status, refused["errcode"]) == (401, "M_USER_LOCKED")

    # Unknown, wrong and right: the first two answer exactly alike.
    back = "/api/v1/sessions/return"
    unknown = await post_session(bots.api, {"lookup": b64(os.urandom(32)), "verifier": b64(verifier)}, path=back)
    wrong = await post_session(bots.api, {"lookup": b64(lookup), "verifier": b64(os.urandom(32))}, path=back)
    assert unknown[:2] == wrong[:2] == (403, {"error": "unknown_code"})
    status, returned, _ = await post_session(bots.api, {"lookup": b64(lookup), "verifier": b64(verifier)}, path=back)
    assert status == 200
    assert returned["user_id"] == user and returned["room_id"] == session["room_id"] and returned["days"] == 0
    # The widget signs in itself; the dehydrated device is still there to rehydrate.
    status, signed_in = await login(base, user, login_secret)
    assert status == 200, signed_in
    status, found = await call(base, "GET", DEHYDRATED, signed_in["access_token"])
    assert status == 200 and found["device_id"] == "DEHYDRATEDX"
    # Used up: the same code again is refused like an unknown one.
    again = await post_session(bots.api, {"lookup": b64(lookup), "verifier": b64(verifier)}, path=back)
    assert again[:2] == (403, {"error": "unknown_code"})
    await visitor.client.close()
