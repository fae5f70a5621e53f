"""Visitor accounts can do nothing but chat (SECURITY.md G.33); staff passwords follow a policy (G.34).

Against a real Synapse with Keerpunt's module (synapse-config/keerpunt_synapse.py): a visitor
from the session API tries, with its own token, everything but chatting in its case room, and
Synapse refuses each. Where the module may add fields to the error, the refusal carries
``nl.keerpunt.refused``; where it may not (state events, membership), the test checks the
answer Synapse gives for a module's refusal. Either way a refusal that came from the case
room's power levels (which stop a visitor too) does not pass for the module's, and several
attempts are made in a room where the visitor has power level 100, so only the module stands
in the way. Staff (and a server admin) doing the same things are not limited.
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest

from bots.texts import text
from tests.support.bots import InProcessBots
from tests.support.matrix_clients import ClientFactory, TestUser
from tests.support.visitor import send, start_and_greet
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration

REFUSED = "nl.keerpunt.refused"
# What Synapse answers when the module's user_may_send_state_event refuses (no extra fields
# possible there); the power levels' refusal says "You don't have permission to post that…".
STATE_REFUSAL = "You are not permitted to send the state event"
# What Synapse answers when the module's check_event_allowed refuses a membership event.
MEMBERSHIP_REFUSAL = "This event is not allowed in this context"


async def call(user: TestUser, method: str, path: str, body: Any = None, **kwargs: Any) -> tuple[int, Any]:
    """One client-API request with ``user``'s access token; (status, JSON body)."""
    headers = {"Authorization": f"Bearer {user.registration.access_token}", **kwargs.pop("headers", {})}
    json_body = None if "data" in kwargs else body
    async with (
        aiohttp.ClientSession() as http,
        http.request(method, user.client.homeserver + path, json=json_body, headers=headers, **kwargs) as resp,
    ):
        return resp.status, await resp.json(content_type=None)


def refused(answer: tuple[int, Any], what: str) -> None:
    """Synapse refused the request because Keerpunt's module said so (not the power levels)."""
    status, body = answer
    assert status == 403, answer
    assert body.get("errcode") == "M_FORBIDDEN", answer
    assert body.get(REFUSED) == what, answer


def refused_as(answer: tuple[int, Any], message: str) -> None:
    status, body = answer
    assert status == 403, answer
    assert (body.get("errcode"), body.get("error")) == ("M_FORBIDDEN", message), answer


def room(room_id: str) -> str:
    return f"/_matrix/client/v3/rooms/{quote(room_id)}"


def txn() -> str:
    return secrets.token_hex(8)


async def visitor_in_case_room(clients: ClientFactory, bots: InProcessBots) -> tuple[TestUser, str]:
    """A visitor who started a session, joined its case room, spoke first and was greeted."""
    session, visitor, _ = await start_and_greet(clients, bots.api, bots.user_id)
    return visitor, session["room_id"]


async def admin_room(operator: TestUser, visitor: TestUser, **extra: Any) -> str:
    """A room a server admin made, the visitor invited and given power level 100."""
    body = {
        "preset": "private_chat",
        "invite": [visitor.user_id],
        "power_level_content_override": {"users": {operator.user_id: 100, visitor.user_id: 100}},
        **extra,
    }
    status, created = await call(operator, "POST", "/_matrix/client/v3/createRoom", body)
    assert status == 200, created
    return str(created["room_id"])


async def test_a_visitor_creates_no_room_alias_or_directory_entry(bots: InProcessBots, clients: ClientFactory) -> None:
    visitor, case_room = await visitor_in_case_room(clients, bots)
    counsellor = await clients.user("counsellor")
    refused(await call(visitor, "POST", "/_matrix/client/v3/createRoom", {}), "create_room")
    refused(
        await call(visitor, "POST", "/_matrix/client/v3/createRoom", {"invite": [counsellor.user_id]}), "create_room"
    )
    alias = quote(f"#mine-{txn()}:{clients.synapse.server_name}")
    refused(
        await call(visitor, "PUT", f"/_matrix/client/v3/directory/room/{alias}", {"room_id": case_room}), "room_alias"
    )
    publish = f"/_matrix/client/v3/directory/list/room/{quote(case_room)}"
    refused(await call(visitor, "PUT", publish, {"visibility": "public"}), "publish_room")
    # Staff are not limited: a counsellor makes a room.
    status, _ = await call(counsellor, "POST", "/_matrix/client/v3/createRoom", {})
    assert status == 200


async def test_a_visitor_invites_nobody_even_with_power_to(bots: InProcessBots, clients: ClientFactory) -> None:
    visitor, case_room = await visitor_in_case_room(clients, bots)
    counsellor = await clients.user("counsellor")
    operator = await clients.user("operator", admin=True)
    invite = {"user_id": counsellor.user_id}
    refused(await call(visitor, "POST", f"{room(case_room)}/invite", invite), "invite")

    # A room where the power levels would let the visitor do anything: the module still says no.
    own = await admin_room(operator, visitor)
    status, joined = await call(visitor, "POST", f"/_matrix/client/v3/join/{quote(own)}", {})
    assert status == 200, joined
    refused(await call(visitor, "POST", f"{room(own)}/invite", invite), "invite")
    third_party = {"id_server": "id.example.org", "id_access_token": "x", "medium": "email", "address": "a@example.org"}
    refused(await call(visitor, "POST", f"{room(own)}/invite", third_party), "invite")
    refused_as(await call(visitor, "PUT", f"{room(own)}/state/m.room.name/", {"name": "Mijn verhaal"}), STATE_REFUSAL)
    refused_as(await call(visitor, "PUT", f"{room(own)}/state/m.room.topic/", {"topic": "geld"}), STATE_REFUSAL)
    message = {"msgtype": "m.text", "body": "hoi"}
    refused(await call(visitor, "PUT", f"{room(own)}/send/m.room.message/{txn()}", message), "event")

    # The server admin who made the room invites whom it likes.
    status, body = await call(operator, "POST", f"{room(own)}/invite", invite)
    assert status == 200, body


async def test_only_a_server_admin_brings_a_visitor_into_a_room(bots: InProcessBots, clients: ClientFactory) -> None:
    visitor, _ = await visitor_in_case_room(clients, bots)
    counsellor = await clients.user("counsellor")
    operator = await clients.user("operator", admin=True)

    # Staff may invite (a partner or a colleague) but not a visitor: that is the bot's job.
    status, created = await call(counsellor, "POST", "/_matrix/client/v3/createRoom", {"preset": "private_chat"})
    assert status == 200, created
    staff_room = created["room_id"]
    refused(await call(counsellor, "POST", f"{room(staff_room)}/invite", {"user_id": visitor.user_id}), "invite")
    colleague = await clients.user("colleague")
    status, body = await call(counsellor, "POST", f"{room(staff_room)}/invite", {"user_id": colleague.user_id})
    assert status == 200, body

    # A room anyone may join, made by a server admin: not without the admin's invite.
    status, created = await call(operator, "POST", "/_matrix/client/v3/createRoom", {"preset": "public_chat"})
    assert status == 200, created
    public = created["room_id"]
    refused(await call(visitor, "POST", f"/_matrix/client/v3/join/{quote(public)}", {}), "join")

    # A room the visitor is not in: Synapse's own rule, before the module's.
    status, body = await call(visitor, "PUT", f"{room(public)}/send/m.room.encrypted/{txn()}", {"algorithm": "x"})
    assert (status, body.get("errcode")) == (403, "M_FORBIDDEN"), body


async def test_a_visitor_keeps_its_neutral_profile(bots: InProcessBots, clients: ClientFactory) -> None:
    visitor, case_room = await visitor_in_case_room(clients, bots)
    me = quote(visitor.user_id)
    profile = f"/_matrix/client/v3/profile/{me}"
    neutral = text("nl", "visitor.display_name")
    refused(await call(visitor, "PUT", f"{profile}/displayname", {"displayname": "Anna de Vries"}), "profile")
    refused(await call(visitor, "PUT", f"{profile}/displayname", {"displayname": ""}), "profile")
    refused(await call(visitor, "DELETE", f"{profile}/displayname"), "profile")
    avatar = {"avatar_url": f"mxc://{clients.synapse.server_name}/abcdefghijkl"}
    refused(await call(visitor, "PUT", f"{profile}/avatar_url", avatar), "profile")
    refused(await call(visitor, "PUT", f"{profile}/nl.keerpunt.note", {"nl.keerpunt.note": "ik ben 15"}), "profile")
    # A name for this room only is a membership state event: refused as well.
    own_member = {"membership": "join", "displayname": "Anna de Vries"}
    refused_as(await call(visitor, "PUT", f"{room(case_room)}/state/m.room.member/{me}", own_member), STATE_REFUSAL)
    status, body = await call(visitor, "GET", profile)
    assert status == 200 and body.get("displayname") == neutral and "avatar_url" not in body, body

    # The one rename the bots make with the visitor's token (a ready session's account taking the
    # visitor's language, bots/sessions/domain.py _named) still works, also after joining:
    # the new neutral name reaches the room as the visitor's membership.
    english = text("en", "visitor.display_name")
    status, body = await call(visitor, "PUT", f"{profile}/displayname", {"displayname": english})
    assert status == 200, body

    async def renamed_in_room() -> bool:
        status, member = await call(visitor, "GET", f"{room(case_room)}/state/m.room.member/{me}")
        return status == 200 and member.get("displayname") == english

    await wait_until(renamed_in_room, what="the neutral rename in the case room")
    # A server admin may change a visitor's profile (the bots could do the rename that way too).
    operator = await clients.user("operator", admin=True)
    status, body = await call(operator, "PUT", f"{profile}/displayname", {"displayname": neutral})
    assert status == 200, body


async def test_a_visitor_uploads_no_media(bots: InProcessBots, clients: ClientFactory) -> None:
    visitor, _ = await visitor_in_case_room(clients, bots)
    upload = "/_matrix/media/v3/upload?filename=x.txt"
    status, body = await call(visitor, "POST", upload, data=b"hallo", headers={"Content-Type": "text/plain"})
    assert (status, body.get("errcode")) == (413, "M_TOO_LARGE"), body
    status, body = await call(visitor, "GET", "/_matrix/client/v1/media/config")
    assert status == 200 and body.get("m.upload.size") == 0, body
    # Staff are not limited.
    counsellor = await clients.user("counsellor")
    status, body = await call(counsellor, "POST", upload, data=b"hallo", headers={"Content-Type": "text/plain"})
    assert status == 200 and body["content_uri"].startswith("mxc://"), body


async def test_in_its_case_room_a_visitor_only_sends_encrypted_messages(
    bots: InProcessBots, clients: ClientFactory
) -> None:
    visitor, case_room = await visitor_in_case_room(clients, bots)
    base = room(case_room)
    # The normal path: an encrypted message, as the widget sends it.
    event_id = await send(visitor, case_room, "m.room.message", {"msgtype": "m.text", "body": "hallo"})
    call_invite = {"call_id": "c1", "party_id": "p1", "version": "1", "lifetime": 60000, "offer": {"type": "offer"}}
    for event_type, content in [
        ("m.call.invite", call_invite),
        ("m.call.hangup", {"call_id": "c1", "version": "1"}),
        ("m.rtc.notification", {"notification_type": "ring"}),
        ("org.matrix.msc4075.rtc.notification", {"notify_type": "ring"}),
        # Plain text would sit readable on the server; the power levels allow it, the module does not.
        ("m.room.message", {"msgtype": "m.text", "body": "ik ben 15"}),
        ("m.reaction", {"m.relates_to": {"rel_type": "m.annotation", "event_id": event_id, "key": "x"}}),
    ]:
        refused(await call(visitor, "PUT", f"{base}/send/{event_type}/{txn()}", content), "event")
    member_key = quote(f"_{visitor.user_id}_{visitor.device_id}")
    refused_as(
        await call(visitor, "PUT", f"{base}/state/org.matrix.msc3401.call.member/{member_key}", {}), STATE_REFUSAL
    )
    refused_as(await call(visitor, "PUT", f"{base}/state/nl.keerpunt.anything/", {"x": 1}), STATE_REFUSAL)
    refused(await call(visitor, "PUT", f"{base}/redact/{quote(event_id)}/{txn()}", {}), "event")


async def test_a_visitor_leaves_without_a_reason(bots: InProcessBots, clients: ClientFactory) -> None:
    visitor, _ = await visitor_in_case_room(clients, bots)
    operator = await clients.user("operator", admin=True)
    own = await admin_room(operator, visitor)
    status, body = await call(visitor, "POST", f"/_matrix/client/v3/join/{quote(own)}", {"reason": "ik ben 15"})
    refused_as((status, body), MEMBERSHIP_REFUSAL)
    status, body = await call(visitor, "POST", f"/_matrix/client/v3/join/{quote(own)}", {})
    assert status == 200, body
    leave = f"{room(own)}/leave"
    refused_as(await call(visitor, "POST", leave, {"reason": "mijn vriend kijkt mee"}), MEMBERSHIP_REFUSAL)
    status, body = await call(visitor, "POST", leave, {})
    assert status == 200, body


async def test_staff_passwords_follow_the_policy(clients: ClientFactory) -> None:
    staff = await clients.user("counsellor")
    status, policy = await call(staff, "GET", "/_matrix/client/v3/password_policy")
    assert status == 200, policy
    assert policy["m.minimum_length"] >= 12
    assert policy["m.require_digit"] and policy["m.require_lowercase"] and policy["m.require_uppercase"]
    auth = {"type": "m.login.password", "identifier": {"type": "m.id.user", "user": staff.user_id}}

    async def change(new: str) -> tuple[int, Any]:
        body = {"new_password": new, "logout_devices": False, "auth": {**auth, "password": staff.password}}
        return await call(staff, "POST", "/_matrix/client/v3/account/password", body)

    for weak, errcode in [
        ("Kort1", "M_PASSWORD_TOO_SHORT"),
        ("Elfletters1", "M_PASSWORD_TOO_SHORT"),
        ("geencijfersOfZo", "M_PASSWORD_NO_DIGIT"),
        ("geenhoofdletter12", "M_PASSWORD_NO_UPPERCASE"),
        ("GEENKLEINELETTER12", "M_PASSWORD_NO_LOWERCASE"),
    ]:
        status, body = await change(weak)
        assert (status, body.get("errcode")) == (400, errcode), (weak, body)
    status, body = await change("Vier-Woorden-7-Paard")
    assert status == 200, body
