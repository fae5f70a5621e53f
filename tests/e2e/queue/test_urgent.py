"""Danger now: the 112 message in the same bot turn, the case at the head of the queue, pings."""

from __future__ import annotations

import pytest

from bots.db.system_room import SystemRoomStore
from bots.texts import text
from tests.support.bots import InProcessBots
from tests.support.matrix_clients import ClientFactory
from tests.support.staff import add_counsellor
from tests.support.triage import answer_all, prompt_of, start_visitor

from .conftest import QUEUE

pytestmark = pytest.mark.integration

CALM = {"audience": "self", "danger": "no", "topic": "money-mule", "region": "zeeland"}


@pytest.mark.fresh_bots("moves the clock and counts queue places")
async def test_yes_to_danger_gets_112_at_once_and_jumps_the_queue(bots: InProcessBots, clients: ClientFactory) -> None:
    counsellor = await add_counsellor(clients, bots.config, bots.db)
    queue_room = await SystemRoomStore(bots.db).get("queue")
    assert queue_room is not None
    calm = await start_visitor(clients, bots.api, bots.user_id, "nl")
    await answer_all(calm, CALM)
    assert calm.from_bot()[-1]["content"]["nl.keerpunt.queue"]["position"] == 1

    urgent = await start_visitor(clients, bots.api, bots.user_id, "en")
    seen = len(urgent.from_bot())
    await urgent.answer("For myself", prompt="audience", option="self")
    await urgent.next_from_bot(seen)
    seen += 1
    await urgent.answer("Yes", prompt="danger", option="yes")
    # One bot turn: the emergency numbers first, then the next question.
    warning, following = await urgent.next_from_bot(seen, count=2)
    assert warning["content"]["body"] == text("en", "triage.urgent")
    assert "112" in warning["content"]["body"] and "0900-8844" in warning["content"]["body"]
    assert (prompt_of(following) or {}).get("id") == "topic"

    # Already in the queue, at the head, while the questions go on.
    card = await counsellor.wait_for(lambda: counsellor.card(queue_room, urgent.number), what="the urgent card")
    assert card["content"]["body"].startswith(text("nl", "queue.card.title_urgent", number=urgent.number))
    command = await counsellor.say(queue_room, "!queue")
    (listing,) = await counsellor.wait_for(
        lambda: counsellor.replies_to(queue_room, command), what="the answer to !queue"
    )
    assert listing.index(f"Chat {urgent.number}") < listing.index(f"Chat {calm.number}")
    assert f"1. Chat {urgent.number} – URGENT" in listing

    # Nobody claims it: after urgent_reminder_minutes the queue room is pinged with @room.
    bots.clock.advance(QUEUE["queue"]["urgent_reminder_minutes"] * 60 + 1)
    ping = await counsellor.wait_message(
        queue_room,
        bots.user_id,
        lambda e: (e["content"].get("m.relates_to") or {}).get("m.in_reply_to", {}).get("event_id") == card["event_id"],
        what="the urgent reminder",
    )
    assert ping["content"]["body"].startswith("@room") and ping["content"]["m.mentions"] == {"room": True}

    # The calm visitor was pushed back to place 2 (told once the two minutes between updates
    # passed); once the urgent case is claimed they are first again and told so at once.
    await calm.observer.wait_message(
        calm.room,
        bots.user_id,
        lambda e: e["content"]["body"] == text("nl", "queue.visitor.position", position=2, minutes=30),
    )
    told = len(calm.from_bot())
    await counsellor.say(queue_room, f"!claim {urgent.number}")
    (news,) = await calm.next_from_bot(told)
    assert news["content"]["body"] == text("nl", "queue.visitor.next")
    assert news["content"]["nl.keerpunt.queue"]["position"] == 1
