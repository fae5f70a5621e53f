"""Nobody is forgotten when someone walks out: a visitor leaving, a counsellor leaving a claimed chat."""

from __future__ import annotations

import pytest

from bots.db.case_log import CaseLogStore
from bots.db.queue_case import QueueStore
from bots.db.system_room import SystemRoomStore
from bots.texts import text
from tests.support.bots import InProcessBots
from tests.support.matrix_clients import ClientFactory
from tests.support.staff import add_counsellor
from tests.support.triage import answer_all, start_visitor
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration

ANSWERS = {"audience": "self", "danger": "no", "topic": "drug-running", "region": "drenthe"}


async def test_a_visitor_who_leaves_the_room_is_taken_out_of_the_queue_and_the_card_says_so(
    bots: InProcessBots, clients: ClientFactory
) -> None:
    counsellor = await add_counsellor(clients, bots.config, bots.db)
    queue_room = await SystemRoomStore(bots.db).get("queue")
    assert queue_room is not None
    visitor = await start_visitor(clients, bots.api, bots.user_id)
    await answer_all(visitor, ANSWERS)
    card = await counsellor.wait_for(lambda: counsellor.card(queue_room, visitor.number), what="the card")
    await visitor.observer.user.client.room_leave(visitor.room)
    left = text("nl", "queue.card.departure.left")
    await counsellor.wait_for(
        lambda: left in counsellor.latest_card_body(queue_room, card["event_id"]), what="the card"
    )
    body = counsellor.latest_card_body(queue_room, card["event_id"])
    assert text("nl", "queue.card.status.closed_unclaimed") in body and "!claim" not in body
    q = await QueueStore(bots.db).by_number(visitor.number)
    assert q is not None and q.stage == "closed" and q.departure == "left"


async def test_a_counsellor_who_walks_out_of_a_claimed_chat_puts_it_back_in_the_queue(
    bots: InProcessBots, clients: ClientFactory
) -> None:
    counsellor = await add_counsellor(clients, bots.config, bots.db)
    queue_room = await SystemRoomStore(bots.db).get("queue")
    assert queue_room is not None
    visitor = await start_visitor(clients, bots.api, bots.user_id)
    await answer_all(visitor, ANSWERS)
    card = await counsellor.wait_for(lambda: counsellor.card(queue_room, visitor.number), what="the card")
    await counsellor.say(queue_room, f"!claim {visitor.number}")
    await counsellor.wait_for(lambda: visitor.room in counsellor.user.client.invited_rooms, what="the invite")
    await counsellor.join(visitor.room)
    await counsellor.user.client.room_leave(visitor.room)

    await visitor.observer.wait_message(
        visitor.room, bots.user_id, lambda e: e["content"]["body"].startswith(text("nl", "queue.visitor.released"))
    )
    note = text("nl", "queue.staff.counsellor_left", counsellor=counsellor.user_id, number=visitor.number)
    await counsellor.wait_for(lambda: note in counsellor.in_thread(queue_room, card["event_id"]), what="the thread")
    queue = QueueStore(bots.db)

    async def waiting_again() -> bool:
        q = await queue.by_number(visitor.number)
        return q is not None and q.stage == "waiting" and q.claimed_by is None

    await wait_until(waiting_again, what="the case to wait again")
    q = await queue.by_number(visitor.number)
    assert q is not None
    events = [(e.kind, e.detail) for e in await CaseLogStore(bots.db).of_case(q.case_id)]
    assert ("released", "left_room") in events
