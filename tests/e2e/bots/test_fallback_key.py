"""When the bot's one-time keys run out, its fallback key still lets a visitor reach it."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest

from tests.support.bots import InProcessBots
from tests.support.matrix_clients import ClientFactory, TestUser
from tests.support.visitor import join, messages_from, new_session, speak_first

pytestmark = pytest.mark.integration


async def _claim(claimer: TestUser, user: str, device: str) -> dict[str, Any]:
    body = {"one_time_keys": {user: {device: "signed_curve25519"}}}
    headers = {"Authorization": f"Bearer {claimer.registration.access_token}"}
    async with (
        aiohttp.ClientSession() as http,
        http.post(claimer.client.homeserver + "/_matrix/client/v3/keys/claim", json=body, headers=headers) as resp,
    ):
        assert resp.status == 200
        keys = (await resp.json())["one_time_keys"].get(user, {}).get(device, {})
        return dict(next(iter(keys.values()))) if keys else {}


@pytest.mark.fresh_bots("stops the bots and uses up their one-time keys")
async def test_a_visitor_reaches_the_bot_after_its_one_time_keys_are_used_up(
    bots: InProcessBots, clients: ClientFactory
) -> None:
    assert bots.service is not None and bots.service.session is not None
    device = bots.service.session.device_id
    session = await new_session(bots.api)
    room = session["room_id"]
    visitor = await clients.visitor(session)
    await join(visitor, room, bots.user_id)
    await bots.stop()  # nothing tops the keys up now

    claimer = await clients.user("claimer")
    claimed = await asyncio.gather(*(_claim(claimer, bots.user_id, device) for _ in range(40)))
    assert all(claimed), "the bot ran out of keys and has no fallback key"
    # One at a time now: concurrent claims may get the fallback key while one-time keys are
    # still left (PostgreSQL skips rows another claim has locked).
    for _ in range(100):
        key = await _claim(claimer, bots.user_id, device)
        assert key, "the bot ran out of keys and has no fallback key"
        if key.get("fallback"):
            break
    else:
        raise AssertionError("the one-time keys were never used up")
    assert (await _claim(claimer, bots.user_id, device)).get("fallback") is True

    await speak_first(visitor, room)  # its Olm session to the bot can only come from the fallback key
    await bots.start()
    got, failed = await messages_from(visitor, room, bots.user_id)
    assert got and not failed, "the bot could not read the first message"
