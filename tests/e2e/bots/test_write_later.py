"""Write now, answered later against a real Synapse (docs/write-later.md): while the chat is
closed the session API offers it and starts a session only when asked to; the bot greets with
the closed lead and the questions; ending with a code as ``later`` leaves the case dormant,
locked and waiting in the queue as ``waiting_async`` with its card saying so; a counsellor
claims it, reads the visitor's lines (relayed by the bot: the room's earlier events are not
theirs to see) and their first message in the room counts as the answer. The rules with the clock
moved are in tests/core/test_write_later.py; the widget's half in widget/test."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest

from bots.db import Stores
from bots.db.case import CaseStore
from bots.db.system_room import SystemRoomStore
from bots.ids import RoomID
from bots.texts import text
from tests.support.bots import InProcessBots
from tests.support.matrix_clients import ClientFactory
from tests.support.return_code import b64, synapse_with_return_codes
from tests.support.staff import add_counsellor
from tests.support.synapse import SynapseProcess
from tests.support.visitor import join, messages_from, post_session, send, speak_first

pytestmark = pytest.mark.integration

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
OPENS = dt.date.today() + dt.timedelta(days=2)
CLOSED: dict[str, Any] = {
    "return_code": {"enabled": True},
    "async": {"enabled": True},
    "hours": {
        **{day: [] for day in WEEKDAYS},
        "apply_in_dev": True,
        "special_hours": [f"{OPENS.isoformat()} 10:00-16:00"],
    },
}


@pytest.fixture(scope="module")
def synapse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SynapseProcess]:
    yield from synapse_with_return_codes(tmp_path_factory)


@pytest.fixture(scope="module")
def bots_extra() -> dict[str, Any]:
    return CLOSED


async def admin(clients: ClientFactory, path: str, token: str) -> dict[str, Any]:
    import aiohttp

    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession() as http, http.get(clients.synapse.url + path, headers=headers) as resp:
        assert resp.status == 200, await resp.text()
        return dict(await resp.json())


async def test_a_message_left_while_closed_waits_dormant_for_a_counsellor_and_the_answer_counts(
    bots: InProcessBots, clients: ClientFactory
) -> None:
    counsellor = await add_counsellor(clients, bots.config, bots.db, "nachtdienst")
    # Closed: the API says so, offers a message for later, and makes nothing unless asked.
    status, closed, _ = await post_session(bots.api, {"language": "nl", "entry": "widget"})
    assert status == 200 and closed["open"] is False and closed["later"] is True
    assert closed["opens_at"].startswith(OPENS.isoformat())
    assert await CaseStore(bots.db).count() == 0

    status, session, _ = await post_session(bots.api, {"language": "nl", "entry": "widget", "later": True})
    assert status == 201 and session["later"] is True, session
    room, user, token = session["room_id"], session["user_id"], session["access_token"]
    visitor = await clients.visitor(session)
    await join(visitor, room, bots.user_id)
    await speak_first(visitor, room)
    got, failed = await messages_from(visitor, room, bots.user_id, count=3)
    assert not failed
    bodies = [m.body for m in got]
    assert bodies[0] == text("nl", "greeting.welcome")
    assert (
        bodies[1].startswith("De chat is nu gesloten.") and "Niemand leest dit voordat we weer open zijn" in bodies[1]
    )
    for line in ("Hallo, het is nacht.", "Ik durf niet te bellen."):
        await send(visitor, room, "m.room.message", {"msgtype": "m.text", "body": line})

    # The code, then the end as a message for later. (No stand-in dehydrated device here: its
    # made-up keys would break the bots' key queries; tests/e2e/bots/test_return_code.py keeps one.)
    auth = {"Authorization": f"Bearer {token}"}
    code = {"lookup": b64(os.urandom(32)), "verifier": b64(os.urandom(32)), "login": b64(os.urandom(32))}
    status, _, _ = await post_session(bots.api, code, headers=auth, path="/api/v1/sessions/code")
    assert status == 200
    status, _, _ = await post_session(bots.api, {"reason": "later"}, headers=auth, path="/api/v1/sessions/end")
    assert status == 204
    stores = Stores.over(bots.db)
    case = await stores.cases.by_room(RoomID(room))
    assert case is not None and case.state == "dormant" and case.close_reason == "async"
    operator = (await clients.user("operator", admin=True)).registration.access_token
    account = await admin(clients, f"/_synapse/admin/v2/users/{quote(user)}", operator)
    assert account["locked"] is True and account["deactivated"] is False
    devices = await admin(clients, f"/_synapse/admin/v2/users/{quote(user)}/devices", operator)
    assert devices["devices"] == []  # the widget's device is gone; only a dehydrated one would stay

    # The card in the queue room says it waits, written while closed; a counsellor claims it.
    queue_room = await SystemRoomStore(bots.db).get("queue")
    assert queue_room is not None
    waiting = text("nl", "queue.card.status.waiting_async_closed")

    def card_says_waiting() -> bool:
        card = counsellor.card(queue_room, session["case"])
        return card is not None and waiting in counsellor.latest_card_body(queue_room, card["event_id"])

    await counsellor.wait_for(card_says_waiting, within=30, what="the card saying it waits")
    q = await stores.queue.workflow.get(case.id)
    assert q is not None and q.stage == "waiting_async"
    await counsellor.say(queue_room, f"!claim {session['case']}")
    await counsellor.wait_for(lambda: room in counsellor.user.client.invited_rooms, what="the invite")
    await counsellor.join(room)
    # The room's history before the join is not the counsellor's to see: the bot relays the
    # visitor's own lines to them, readable (strict: from a cross-signed device of the bot).
    relay = await counsellor.wait_message(
        room,
        bots.user_id,
        lambda e: "Ik durf niet te bellen." in e["content"].get("body", ""),
        within=30,
        what="the relay",
    )
    assert "Hallo, het is nacht." in relay["content"]["body"]
    assert counsellor.bodies(room, user) == []  # the visitor's own events stay out of reach
    await counsellor.say(room, "Dank je voor je bericht. Ik ben er voor je.")

    async def answered() -> bool:
        later = await stores.later.get(case.id)
        return later is not None and later.answered_at is not None

    for _ in range(60):
        if await answered():
            break
        await counsellor.sync()
    assert await answered(), "the counsellor's message was not taken as the answer"
    fresh = await stores.cases.get(case.id)
    kept = await stores.codes.of_case(case.id)
    assert fresh is not None and kept is not None and fresh.purge_after == kept.expires_at
    await visitor.client.close()
