"""The case room: the visitor can only talk; no state, name, alias or profile says anything."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest

from bots.texts import text
from tests.support.bots import InProcessBots
from tests.support.matrix_clients import ClientFactory, TestUser
from tests.support.visitor import send, start_and_greet

pytestmark = pytest.mark.integration

# The only state a case room may hold, and what each may say.
ALLOWED_STATE = {
    "m.room.create",
    "m.room.member",
    "m.room.power_levels",
    "m.room.join_rules",
    "m.room.history_visibility",
    "m.room.guest_access",
    "m.room.encryption",
    "m.space.parent",  # the staff Space holds case rooms in the queue (issue 4)
}


async def _call(user: TestUser, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {user.registration.access_token}"}
    async with (
        aiohttp.ClientSession() as http,
        http.request(method, user.client.homeserver + path, json=body, headers=headers) as resp,
    ):
        return resp.status, await resp.json(content_type=None)


async def test_the_visitor_can_talk_but_not_invite_change_state_or_publish(
    bots: InProcessBots, clients: ClientFactory
) -> None:
    session, visitor, _ = await start_and_greet(clients, bots.api, bots.user_id)
    room = quote(session["room_id"])
    stranger = await clients.user("stranger")
    status, _ = await _call(visitor, "POST", f"/_matrix/client/v3/rooms/{room}/invite", {"user_id": stranger.user_id})
    assert status == 403
    for event_type, content in [
        ("m.room.name", {"name": "Mijn verhaal"}),
        ("m.room.topic", {"topic": "Ik word gedwongen"}),
        ("m.room.power_levels", {"users": {visitor.user_id: 100}}),
        ("m.room.join_rules", {"join_rule": "public"}),
        ("m.room.history_visibility", {"history_visibility": "world_readable"}),
        ("m.room.encryption", {"algorithm": "m.megolm.v1.aes-sha2"}),
        ("nl.keerpunt.anything", {"x": 1}),
    ]:
        status, _ = await _call(visitor, "PUT", f"/_matrix/client/v3/rooms/{room}/state/{event_type}/", content)
        assert status == 403, event_type
    status, _ = await _call(visitor, "PUT", f"/_matrix/client/v3/directory/list/room/{room}", {"visibility": "public"})
    assert status == 403
    status, body = await _call(visitor, "GET", "/_matrix/client/v3/publicRooms")
    assert status != 200 or body["chunk"] == []
    status, body = await _call(visitor, "POST", "/_matrix/client/v3/user_directory/search", {"search_term": "keerpunt"})
    assert status != 200 or body["results"] == []
    status, _ = await _call(
        visitor, "PUT", f"/_matrix/client/v3/rooms/{room}/send/m.reaction/r1", {"m.relates_to": {"key": "x"}}
    )
    assert status == 403, "reactions are unencrypted and must not be open to the visitor"
    # Messages are what the visitor can send.
    await send(visitor, session["room_id"], "m.room.message", {"msgtype": "m.text", "body": "ik ben 15"})


async def test_room_state_and_profile_hold_nothing_about_the_visitor(
    bots: InProcessBots, clients: ClientFactory
) -> None:
    session, visitor, _ = await start_and_greet(clients, bots.api, bots.user_id, "nl")
    secret_words = ["ik ben 15", "Rotterdam", "geld"]
    for word in secret_words:
        await send(visitor, session["room_id"], "m.room.message", {"msgtype": "m.text", "body": word})
    room = quote(session["room_id"])
    status, state = await _call(visitor, "GET", f"/_matrix/client/v3/rooms/{room}/state")
    assert status == 200
    types = {event["type"] for event in state}
    assert types <= ALLOWED_STATE, types - ALLOWED_STATE
    for event in state:
        _check_state(event, visitor.user_id)
    # Every non-state event in the timeline is encrypted; nothing sensitive in the clear.
    status, messages = await _call(visitor, "GET", f"/_matrix/client/v3/rooms/{room}/messages?dir=b&limit=100")
    assert status == 200
    for event in messages["chunk"]:
        if "state_key" not in event:
            assert event["type"] == "m.room.encrypted", event["type"]
    dump = repr(state) + repr(messages)
    for word in secret_words:
        assert word not in dump


async def test_visitor_account_is_random_neutral_and_has_no_avatar(bots: InProcessBots, clients: ClientFactory) -> None:
    session, visitor, _ = await start_and_greet(clients, bots.api, bots.user_id, "en")
    localpart = visitor.user_id.split(":")[0].removeprefix("@")
    match = re.fullmatch(r"visitor-([0-9a-f]+)", localpart)
    assert match is not None and len(match.group(1)) * 4 >= 96
    status, profile = await _call(visitor, "GET", f"/_matrix/client/v3/profile/{quote(visitor.user_id)}")
    assert status == 200
    assert profile.get("displayname") == text("en", "visitor.display_name")
    assert "avatar_url" not in profile
    status, devices = await _call(visitor, "GET", "/_matrix/client/v3/devices")
    assert status == 200
    (device,) = devices["devices"]
    assert device["device_id"] == session["device_id"]
    assert device["display_name"] == text("en", "visitor.device_name")


def _check_state(event: dict[str, Any], visitor: str) -> None:
    """What each allowed state event may say: only what Matrix needs, nothing about the person."""
    content = event["content"]
    kind = event["type"]
    if kind == "m.room.create":
        assert content.get("m.federate") is False
        assert set(content) <= {"creator", "room_version", "m.federate"}
    elif kind == "m.room.member":
        assert content.get("avatar_url") is None
        if event["state_key"] == visitor:
            assert content.get("displayname") == text("nl", "visitor.display_name")
    elif kind == "m.room.encryption":
        assert content["algorithm"] == "m.megolm.v1.aes-sha2"
        assert content["rotation_period_msgs"] <= 100
    elif kind == "m.room.history_visibility":
        assert content["history_visibility"] == "joined"
    elif kind == "m.room.guest_access":
        assert content["guest_access"] == "forbidden"
    elif kind == "m.space.parent":
        assert set(content) <= {"via", "canonical"}
    elif kind == "m.room.join_rules":
        assert content["join_rule"] == "invite"
    elif kind == "m.room.power_levels":
        assert content["users"].get(visitor, content["users_default"]) == 0
        for action in ("invite", "kick", "ban", "redact", "state_default"):
            assert content[action] > 0, action
        assert content["notifications"]["room"] > 0
