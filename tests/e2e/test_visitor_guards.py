"""What a visitor token can still do where Synapse has no module callback (issue 23, N5;
SECURITY.md H.40): against a real Synapse with Keerpunt's module
(synapse-config/keerpunt_synapse_guards.py), a visitor from the session API tries to register
a pusher, file reports, name its devices, send to-device messages outside its rooms, and fill
account data and the key backup; each is refused, dropped or bounded, and staff doing the same
are not limited. The legitimate traffic (secret storage, key backup, room keys to the people in
the case) is part of each test, and the return-code and widget tests run it for real.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import aiohttp
import pytest

from bots.texts import text
from tests.e2e.test_visitor_limits import REFUSED, admin_room, call, refused, room, txn, visitor_in_case_room
from tests.support.bots import InProcessBots
from tests.support.matrix_clients import ClientFactory, TestUser
from tests.support.visitor import send
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration


def bounded(answer: tuple[int, Any], what: str) -> None:
    """Refused by the module because a bound is reached."""
    status, body = answer
    assert status == 403, answer
    assert (body.get("errcode"), body.get(REFUSED)) == ("M_RESOURCE_LIMIT_EXCEEDED", what), answer


async def test_a_visitor_registers_no_pusher(bots: InProcessBots, clients: ClientFactory) -> None:
    visitor, _ = await visitor_in_case_room(clients, bots)
    http_pusher = {
        "kind": "http",
        "app_id": "nl.example.app",
        "app_display_name": "App",
        "device_display_name": "Telefoon",
        "pushkey": f"key-{txn()}",
        "lang": "nl",
        "data": {"url": "https://push.example.org/_matrix/push/v1/notify"},
    }
    refused(await call(visitor, "POST", "/_matrix/client/v3/pushers/set", http_pusher), "pusher")
    email = {**http_pusher, "kind": "email", "app_id": "m.email", "pushkey": "a@example.org", "data": {}}
    refused(await call(visitor, "POST", "/_matrix/client/v3/pushers/set", email), "pusher")
    status, body = await call(visitor, "GET", "/_matrix/client/v3/pushers")
    assert status == 200 and body["pushers"] == [], body
    # Staff may (Element on a phone registers one); a visitor cannot then take it over.
    counsellor = await clients.user("counsellor")
    status, body = await call(counsellor, "POST", "/_matrix/client/v3/pushers/set", http_pusher)
    assert status == 200, body
    refused(await call(visitor, "POST", "/_matrix/client/v3/pushers/set", http_pusher), "pusher")
    status, body = await call(counsellor, "GET", "/_matrix/client/v3/pushers")
    assert [p["pushkey"] for p in body["pushers"]] == [http_pusher["pushkey"]], body


async def test_a_visitor_files_no_report(bots: InProcessBots, clients: ClientFactory) -> None:
    visitor, case_room = await visitor_in_case_room(clients, bots)
    event_id = await send(visitor, case_room, "m.room.message", {"msgtype": "m.text", "body": "hallo"})
    reason = {"reason": "de hulpverlener heet Anna en woont in Zwolle", "score": -100}
    refused(await call(visitor, "POST", f"{room(case_room)}/report/{quote(event_id)}", reason), "report")
    refused(await call(visitor, "POST", f"{room(case_room)}/report", {"reason": reason["reason"]}), "report")
    user_report = f"/_matrix/client/v3/users/{quote(bots.user_id)}/report"
    refused(await call(visitor, "POST", user_report, {"reason": reason["reason"]}), "report")
    # Staff may report a message they can see (the purge removes it with the room).
    operator = await clients.user("operator", admin=True)
    own = await admin_room(operator, visitor)
    status, body = await call(operator, "POST", f"{room(own)}/report", {"reason": "test"})
    assert status == 200, body
    status, reports = await call(operator, "GET", "/_synapse/admin/v1/room_reports")
    if status == 200:  # the admin listing of room reports exists from Synapse 1.128 on
        assert all(r.get("user_id") != visitor.user_id for r in reports.get("room_reports", [])), reports
    status, reports = await call(operator, "GET", "/_synapse/admin/v1/event_reports")
    assert status == 200 and all(r["user_id"] != visitor.user_id for r in reports["event_reports"]), reports


async def test_a_visitors_devices_keep_a_neutral_name(bots: InProcessBots, clients: ClientFactory) -> None:
    visitor, _ = await visitor_in_case_room(clients, bots)
    neutral = text("nl", "visitor.device_name")
    device = f"/_matrix/client/v3/devices/{quote(visitor.device_id)}"
    refused(await call(visitor, "PUT", device, {"display_name": "Keerpunt beheer – verifieer mij"}), "device_name")
    status, body = await call(visitor, "PUT", device, {"display_name": neutral})
    assert status == 200, body
    # A name given at login becomes the neutral one (refusing it would break a login).
    operator = await clients.user("operator", admin=True)
    password = f"Wachtwoord-{txn()}"
    status, body = await call(
        operator,
        "POST",
        f"/_synapse/admin/v1/reset_password/{quote(visitor.user_id)}",
        {"new_password": password, "logout_devices": False},
    )
    assert status == 200, body
    login = {
        "type": "m.login.password",
        "identifier": {"type": "m.id.user", "user": visitor.user_id},
        "password": password,
        "initial_device_display_name": "Keerpunt beheer – verifieer mij",
    }
    url = visitor.client.homeserver + "/_matrix/client/v3/login"
    async with aiohttp.ClientSession() as http, http.post(url, json=login) as resp:
        assert resp.status == 200, await resp.text()
        new_device = (await resp.json())["device_id"]
    status, body = await call(visitor, "GET", "/_matrix/client/v3/devices")
    names = {d["device_id"]: d.get("display_name") for d in body["devices"]}
    assert names[new_device] == neutral and names[visitor.device_id] == neutral, names
    # Staff name their devices as they like.
    counsellor = await clients.user("counsellor")
    renamed = {"display_name": "Laptop kantoor"}
    status, body = await call(counsellor, "PUT", f"/_matrix/client/v3/devices/{counsellor.device_id}", renamed)
    assert status == 200, body


async def to_device_inbox(user: TestUser, marker: str) -> list[dict[str, Any]]:
    """``user``'s to-device events up to the one whose content has ``marker`` (sent last)."""
    seen: list[dict[str, Any]] = []
    since = ""

    async def arrived() -> bool:
        nonlocal since
        query = "?timeout=0" + (f"&since={since}" if since else "")
        status, body = await call(user, "GET", f"/_matrix/client/v3/sync{query}")
        assert status == 200, body
        since = body["next_batch"]
        seen.extend(body.get("to_device", {}).get("events", []))
        return any(e["content"].get("marker") == marker for e in seen)

    await wait_until(arrived, what="the marker message")
    return seen


async def test_a_visitors_to_device_messages_reach_only_the_people_in_its_rooms(
    bots: InProcessBots, clients: ClientFactory
) -> None:
    visitor, _ = await visitor_in_case_room(clients, bots)
    operator = await clients.user("operator", admin=True)
    counsellor = await clients.user("counsellor")
    invited = await clients.user("colleague")
    outsider = await clients.user("outsider")
    own = await admin_room(operator, visitor, invite=[visitor.user_id, counsellor.user_id, invited.user_id])
    for user in (visitor, counsellor):
        status, body = await call(user, "POST", f"/_matrix/client/v3/join/{quote(own)}", {})
        assert status == 200, body
    # As a client sends room keys or a verification request: one request, several recipients.
    content = {"marker": "from-visitor", "body": "Keerpunt beheer: verifieer mij"}
    messages = {u.user_id: {"*": content} for u in (counsellor, invited, outsider, visitor)}
    status, body = await call(visitor, "PUT", f"/_matrix/client/v3/sendToDevice/nl.keerpunt.test/{txn()}",
                              {"messages": messages})  # fmt: skip
    assert status == 200, body
    # A member (joined or invited) gets it; the outsider does not: the operator's marker, sent
    # after it, arrives alone.
    for user in (counsellor, invited):
        got = await to_device_inbox(user, "from-visitor")
        assert [e["sender"] for e in got] == [visitor.user_id], got
    marker = {outsider.user_id: {"*": {"marker": "from-operator"}}}
    status, body = await call(operator, "PUT", f"/_matrix/client/v3/sendToDevice/nl.keerpunt.test/{txn()}",
                              {"messages": marker})  # fmt: skip
    assert status == 200, body
    got = await to_device_inbox(outsider, "from-operator")
    assert [e["sender"] for e in got] == [operator.user_id], got
    # Staff send to whom they like.
    status, body = await call(counsellor, "PUT", f"/_matrix/client/v3/sendToDevice/nl.keerpunt.test/{txn()}",
                              {"messages": {outsider.user_id: {"*": {"marker": "staff"}}}})  # fmt: skip
    assert status == 200, body
    senders = [e["sender"] for e in await to_device_inbox(outsider, "staff")]
    assert counsellor.user_id in senders and visitor.user_id not in senders, senders


async def test_a_visitors_account_data_is_bounded(bots: InProcessBots, clients: ClientFactory) -> None:
    visitor, case_room = await visitor_in_case_room(clients, bots)
    me = quote(visitor.user_id)
    data = f"/_matrix/client/v3/user/{me}/account_data"
    # What secret storage writes (docs/return-code.md) is well within the bounds.
    key = {"algorithm": "m.secret_storage.v1.aes-hmac-sha2", "iv": "a" * 22, "mac": "b" * 43}
    status, body = await call(visitor, "PUT", f"{data}/m.secret_storage.key.abc", key)
    assert status == 200, body
    bounded(await call(visitor, "PUT", f"{data}/nl.keerpunt.big", {"x": "y" * 17_000}), "account_data")
    for n in range(99):  # with the key above: 100 kinds, the bound
        status, body = await call(visitor, "PUT", f"{data}/nl.keerpunt.n{n}", {"n": n})
        assert status == 200, (n, body)
    bounded(await call(visitor, "PUT", f"{data}/nl.keerpunt.one-more", {"n": 1}), "account_data")
    status, body = await call(visitor, "PUT", f"{data}/nl.keerpunt.n5", {"n": "again"})  # a change is fine
    assert status == 200, body
    in_room = f"/_matrix/client/v3/user/{me}/rooms/{quote(case_room)}/account_data"
    # The read marker, as js-sdk sets it, is room account data too.
    marker = {"m.fully_read": await send(visitor, case_room, "m.room.message", {"msgtype": "m.text", "body": "x"})}
    status, body = await call(visitor, "POST", f"{room(case_room)}/read_markers", marker)
    assert status == 200, body
    for n in range(9):
        status, body = await call(visitor, "PUT", f"{in_room}/nl.keerpunt.r{n}", {"n": n})
        assert status == 200, (n, body)
    bounded(await call(visitor, "PUT", f"{in_room}/nl.keerpunt.r99", {"n": 1}), "account_data")
    tag = f"/_matrix/client/v3/user/{me}/rooms/{quote(case_room)}/tags/u.work"
    bounded(await call(visitor, "PUT", tag, {}), "account_data")
    # Only in its own rooms.
    operator = await clients.user("operator", admin=True)
    status, created = await call(operator, "POST", "/_matrix/client/v3/createRoom", {})
    other = f"/_matrix/client/v3/user/{me}/rooms/{quote(created['room_id'])}/account_data/nl.keerpunt.x"
    refused(await call(visitor, "PUT", other, {"n": 1}), "account_data")
    # Staff are not limited.
    counsellor = await clients.user("counsellor")
    staff_data = f"/_matrix/client/v3/user/{quote(counsellor.user_id)}/account_data/nl.keerpunt.big"
    status, body = await call(counsellor, "PUT", staff_data, {"x": "y" * 17_000})
    assert status == 200, body


async def test_a_visitors_key_backup_is_bounded(bots: InProcessBots, clients: ClientFactory) -> None:
    visitor, case_room = await visitor_in_case_room(clients, bots)
    info = {"algorithm": "m.megolm_backup.v1.curve25519-aes-sha2", "auth_data": {"public_key": "a" * 43}}
    versions = []
    for _ in range(5):
        status, body = await call(visitor, "POST", "/_matrix/client/v3/room_keys/version", info)
        assert status == 200, body
        versions.append(body["version"])
    bounded(await call(visitor, "POST", "/_matrix/client/v3/room_keys/version", info), "key_backup")
    # Deleting one makes room for the next, as the widget's "return without history" does.
    status, body = await call(visitor, "DELETE", f"/_matrix/client/v3/room_keys/version/{versions[0]}")
    assert status == 200, body
    status, body = await call(visitor, "POST", "/_matrix/client/v3/room_keys/version", info)
    assert status == 200, body
    version = body["version"]

    def key(size: int = 0) -> dict[str, Any]:
        data = {"ephemeral": "e" * 43, "ciphertext": "c" * (20 + size), "mac": "m" * 11}
        return {"first_message_index": 0, "forwarded_count": 0, "is_verified": True, "session_data": data}

    keys = f"/_matrix/client/v3/room_keys/keys?version={version}"
    body = {"rooms": {case_room: {"sessions": {f"s{n}": key() for n in range(300)}}}}
    status, answer = await call(visitor, "PUT", keys, body)
    assert status == 200 and answer["count"] == 300, answer
    bounded(await call(visitor, "PUT", keys, {"rooms": {case_room: {"sessions": {"big": key(5000)}}}}), "key_backup")
    too_many = {"rooms": {case_room: {"sessions": {f"t{n}": key() for n in range(4701)}}}}
    bounded(await call(visitor, "PUT", keys, too_many), "key_backup")
    status, answer = await call(visitor, "PUT", keys, {"rooms": {case_room: {"sessions": {"s1": key()}}}})
    assert status == 200 and answer["count"] == 300, answer  # sending a known key again is fine
