"""A counsellor's day in Element: notes, release, transfer, a visitor who flees, close, the Space."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest

from bots.db.queue_case import QueueStore
from bots.db.system_room import SystemRoomStore
from bots.texts import text
from tests.support.bots import InProcessBots
from tests.support.matrix_clients import ClientFactory
from tests.support.staff import Observer, add_counsellor, bot_token
from tests.support.triage import answer_all, start_visitor
from tests.support.visitor import post_session
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration

ANSWERS = {"audience": "professional", "danger": "no", "topic": "recruitment", "region": "limburg"}


async def _state(clients: ClientFactory, bots: InProcessBots, room: str, event_type: str, key: str) -> Any:
    admin = await clients.admin(await bot_token(bots.config))
    try:
        return await admin.request("GET", f"/_matrix/client/v3/rooms/{quote(room)}/state/{event_type}/{quote(key)}")
    except Exception:
        return None


async def _membership(clients: ClientFactory, bots: InProcessBots, room: str, user: str) -> str | None:
    content = await _state(clients, bots, room, "m.room.member", user)
    return None if content is None else str(content.get("membership"))


async def _thread_has(observer: Observer, room: str, root: str, needle: str) -> None:
    await observer.wait_for(
        lambda: any(needle in body for body in observer.in_thread(room, root)), what=f"{needle!r} in the thread"
    )


@pytest.mark.fresh_bots("counts queue places: the visitor is number 1 again")
async def test_note_release_transfer_quick_exit_and_close(bots: InProcessBots, clients: ClientFactory) -> None:
    anna = await add_counsellor(clients, bots.config, bots.db, "anna")
    bram = await add_counsellor(clients, bots.config, bots.db, "bram")
    rooms = await SystemRoomStore(bots.db).all()
    queue_room, space = rooms["queue"], rooms["space"]
    visitor = await start_visitor(clients, bots.api, bots.user_id)
    await answer_all(visitor, ANSWERS)
    card = await anna.wait_for(lambda: anna.card(queue_room, visitor.number), what="the card")
    card_id = card["event_id"]
    queue = QueueStore(bots.db)
    q = await queue.by_number(visitor.number)
    assert q is not None and q.waiting_since is not None
    since = q.waiting_since

    # In the queue: a child of the staff Space, and the case room points back.
    await wait_until(lambda: _state(clients, bots, space, "m.space.child", visitor.room), what="the Space child")
    assert await _state(clients, bots, visitor.room, "m.space.parent", space) == {
        "via": [clients.synapse.server_name],
        "canonical": True,
    }

    # A note goes under the card, in the queue room only.
    note = await anna.say(queue_room, f"!note {visitor.number} belt morgen terug")
    (saved,) = await anna.wait_for(lambda: anna.replies_to(queue_room, note), what="the note receipt")
    assert saved == text("nl", "queue.staff.note_saved", number=visitor.number)
    await _thread_has(anna, queue_room, card_id, "belt morgen terug")

    # Anna claims, joins, and puts it back: she is removed, the visitor keeps their place.
    await anna.say(queue_room, f"!claim {visitor.number}")
    await anna.wait_for(lambda: visitor.room in anna.user.client.invited_rooms, what="anna's invite")
    await anna.join(visitor.room)
    # A note typed in the chat by mistake moves under the card and disappears from the chat.
    slip = await anna.say(visitor.room, f"!note {visitor.number} vertelt over een neef")
    (moved,) = await anna.wait_for(lambda: anna.replies_to(visitor.room, slip), what="the note-moved answer")
    assert moved == text("nl", "queue.staff.note_moved", number=visitor.number)
    await _thread_has(anna, queue_room, card_id, "vertelt over een neef")
    await wait_until(lambda: _redacted(clients, bots, visitor.room, slip), what="the note to be redacted in the chat")
    await anna.say(visitor.room, "!release")
    back = await visitor.observer.wait_message(
        visitor.room, bots.user_id, lambda e: e["content"]["body"].startswith(text("nl", "queue.visitor.released"))
    )
    assert back["content"]["nl.keerpunt.queue"]["position"] == 1
    await wait_until(
        lambda: _is(clients, bots, visitor.room, anna.user_id, "leave"), what="anna to be removed from the chat"
    )
    q = await queue.by_number(visitor.number)
    assert q is not None and q.stage == "waiting" and q.waiting_since == since
    await _thread_has(
        anna, queue_room, card_id, text("nl", "queue.staff.released", counsellor=anna.user_id, number=visitor.number)
    )

    # Bram takes it and hands it to Anna; only counsellors can receive a chat.
    await bram.say(queue_room, f"!claim {visitor.number}")
    await bram.wait_for(lambda: visitor.room in bram.user.client.invited_rooms, what="bram's invite")
    outreach = await add_counsellor(clients, bots.config, bots.db, "olga", role="outreach")
    refused = await bram.say(queue_room, f"!transfer {visitor.number} {outreach.user_id}")
    (no,) = await bram.wait_for(lambda: bram.replies_to(queue_room, refused), what="the refusal")
    assert no == text("nl", "queue.staff.not_a_counsellor", user=outreach.user_id)
    handed = await bram.say(queue_room, f"!transfer {visitor.number} {anna.user_id}")
    (ok,) = await bram.wait_for(lambda: bram.replies_to(queue_room, handed), what="the transfer receipt")
    assert ok == text("nl", "queue.staff.transfer_done", number=visitor.number, counsellor=anna.user_id)
    await visitor.observer.wait_message(
        visitor.room, bots.user_id, lambda e: e["content"]["body"] == text("nl", "queue.visitor.transferred")
    )
    await wait_until(lambda: _is(clients, bots, visitor.room, anna.user_id, "invite"), what="anna invited again")
    await anna.join(visitor.room)
    assert await _membership(clients, bots, visitor.room, bram.user_id) != "join"

    # The visitor uses the quick exit: Anna is told in the chat, the card says it.
    status, _, _ = await post_session(
        bots.api,
        {"reason": "quick_exit"},
        headers={"Authorization": f"Bearer {visitor.session['access_token']}"},
        path="/api/v1/sessions/end",
    )
    assert status == 204
    await anna.wait_message(
        visitor.room, bots.user_id, lambda e: e["content"]["body"] == text("nl", "queue.staff.visitor_quick_exit")
    )
    await anna.wait_for(
        lambda: text("nl", "queue.card.departure.quick_exit") in anna.latest_card_body(queue_room, card_id),
        what="the card to say the visitor fled",
    )

    # Closing needs a known outcome; then the card says closed and the room leaves the Space.
    asked = await anna.say(visitor.room, "!close")
    (which,) = await anna.wait_for(lambda: anna.replies_to(visitor.room, asked), what="the outcome question")
    assert which == text(
        "nl", "queue.staff.outcome_missing", example="helped", outcomes="helped, referred, handover, no-contact, other"
    )
    wrong = await anna.say(visitor.room, "!close fixed")
    (unknown,) = await anna.wait_for(lambda: anna.replies_to(visitor.room, wrong), what="the unknown outcome answer")
    outcomes = ", ".join(bots.config.queue.outcomes)
    assert unknown == text("nl", "queue.staff.outcome_unknown", outcome="fixed", outcomes=outcomes)
    await anna.say(visitor.room, "!close no-contact")
    await anna.wait_for(
        lambda: "no-contact" in anna.latest_card_body(queue_room, card_id), what="the card to show the close"
    )
    await wait_until(lambda: _empty_child(clients, bots, space, visitor.room), what="the case room to leave the Space")


async def _is(clients: ClientFactory, bots: InProcessBots, room: str, user: str, membership: str) -> bool:
    return await _membership(clients, bots, room, user) == membership


async def _empty_child(clients: ClientFactory, bots: InProcessBots, space: str, room: str) -> bool:
    return await _state(clients, bots, space, "m.space.child", room) == {}


async def _redacted(clients: ClientFactory, bots: InProcessBots, room: str, event_id: str) -> bool:
    admin = await clients.admin(await bot_token(bots.config))
    event = await admin.request("GET", f"/_matrix/client/v3/rooms/{quote(room)}/event/{quote(event_id)}")
    return "redacted_because" in event.get("unsigned", {}) and not event.get("content")
