"""A whole conversation in the counsellor's Element-like client: triage, card, claim, talk, close."""

from __future__ import annotations

import pytest

from bots.db.case import CaseStore
from bots.db.case_log import CaseLogStore
from bots.db.queue.triage import TriageStore
from bots.db.system_room import SystemRoomStore
from bots.ids import RoomID
from bots.texts import text
from tests.support.bots import InProcessBots
from tests.support.matrix_clients import ClientFactory
from tests.support.staff import add_counsellor
from tests.support.triage import DEFINITION, label, number_of, prompt_of, start_visitor
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration


@pytest.mark.pg  # the queue's full run on PostgreSQL too
@pytest.mark.fresh_bots("counts the queue: the visitor is number 1")
async def test_triage_card_claim_conversation_and_close(bots: InProcessBots, clients: ClientFactory) -> None:
    counsellor = await add_counsellor(clients, bots.config, bots.db)
    queue_room = await SystemRoomStore(bots.db).get("queue")
    assert queue_room is not None
    visitor = await start_visitor(clients, bots.api, bots.user_id, "nl")
    greeting, first = visitor.from_bot()[:2]
    assert greeting["content"]["body"] == text("nl", "greeting.welcome")
    prompt = prompt_of(first)
    assert prompt is not None and prompt["id"] == "audience"
    assert [o["id"] for o in prompt["options"]] == ["self", "close", "professional", "skip"]
    assert first["content"]["msgtype"] == "m.text"
    assert "1. Voor mezelf" in first["content"]["body"]

    # 1: a structured reply (the widget's buttons).
    seen = len(visitor.from_bot())
    await visitor.answer("Voor mezelf", prompt="audience", option="self")
    (second,) = await visitor.next_from_bot(seen)
    assert prompt_of(second) == {"id": "danger", "options": second["content"]["nl.keerpunt.prompt"]["options"]}
    # 2: the number from the plain-text fallback.
    seen += 1
    await visitor.answer(number_of("danger", "no"))
    (third,) = await visitor.next_from_bot(seen)
    assert (prompt_of(third) or {}).get("id") == "topic"
    # 3: the label, typed loosely.
    seen += 1
    await visitor.answer(label("topic", "debts").lower() + "!")
    (fourth,) = await visitor.next_from_bot(seen)
    assert (prompt_of(fourth) or {}).get("id") == "region"
    seen += 1
    await visitor.answer("Utrecht")
    (done,) = await visitor.next_from_bot(seen)
    assert done["content"]["body"].startswith(text("nl", "triage.done"))
    assert done["content"]["nl.keerpunt.queue"]["position"] == 1

    case = await CaseStore(bots.db).by_room(RoomID(visitor.room))
    assert case is not None
    assert await TriageStore(bots.db).answers(case.id) == {
        "audience": "self",
        "danger": "no",
        "topic": "debts",
        "region": "utrecht",
    }

    # The card in the queue room, readable by the counsellor.
    card = await counsellor.wait_for(lambda: counsellor.card(queue_room, visitor.number), what="the case card")
    body = card["content"]["body"]
    assert f"Chat {visitor.number}" in body
    for question, option in (("audience", "self"), ("danger", "no"), ("topic", "debts"), ("region", "utrecht")):
        assert label(question, option) in body
    assert f"!claim {visitor.number}" in body

    await counsellor.say(queue_room, f"!claim {visitor.number}")
    await counsellor.wait_for(lambda: visitor.room in counsellor.user.client.invited_rooms, what="the invite")
    await counsellor.join(visitor.room)
    summary = await counsellor.wait_for(
        lambda: counsellor.in_thread(queue_room, card["event_id"]), what="the triage summary in the card's thread"
    )
    assert label("topic", "debts") in summary[0] and counsellor.user_id in summary[0]
    seen = len(visitor.from_bot())
    (joined,) = await visitor.next_from_bot(seen)
    assert joined["content"]["body"] == text("nl", "queue.visitor.claimed")

    # Both sides read each other.
    await visitor.observer.wait_for(
        lambda: counsellor.user_id in visitor.observer.user.client.rooms[visitor.room].users, what="the counsellor"
    )
    await counsellor.say(visitor.room, "Hoi, ik ben er. Waar kan ik je mee helpen?")
    await visitor.observer.wait_message(visitor.room, counsellor.user_id, lambda e: "ik ben er" in e["content"]["body"])
    await visitor.answer("Ik heb een schuld bij iemand en hij dreigt.")
    await counsellor.wait_message(visitor.room, visitor.observer.user_id, lambda e: "dreigt" in e["content"]["body"])
    assert not visitor.observer.undecryptable and not counsellor.undecryptable

    await counsellor.say(visitor.room, "!close helped")
    closed = await visitor.observer.wait_message(
        visitor.room, bots.user_id, lambda e: e["content"]["body"] == text("nl", "queue.visitor.closed")
    )
    assert closed

    async def card_closed() -> bool:
        await counsellor.sync()
        return "helped" in counsellor.latest_card_body(queue_room, card["event_id"])

    await wait_until(card_closed, what="the card to show the close")
    latest = counsellor.latest_card_body(queue_room, card["event_id"])
    assert text("nl", "queue.card.status.closed", counsellor=counsellor.user_id, outcome="helped") in latest
    kinds = [e.kind for e in await CaseLogStore(bots.db).of_case(case.id)]
    assert kinds == [
        "started",
        "greeted",
        "answered",
        "answered",
        "answered",
        "answered",
        "queued",
        "claimed",
        "closed",
        "case_closed",
    ]
    assert len(DEFINITION.questions) == 4
