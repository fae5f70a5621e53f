"""Claiming: exactly one of two concurrent claims wins, and a 👍 on the card claims too."""

from __future__ import annotations

import asyncio
from urllib.parse import quote

import pytest

from bots.db.case_log import CaseLogStore
from bots.db.queue.workflow import WorkflowStore
from bots.db.system_room import SystemRoomStore
from bots.texts import text
from tests.support.bots import InProcessBots
from tests.support.matrix_clients import ClientFactory
from tests.support.staff import Observer, add_counsellor, bot_token
from tests.support.triage import answer_all, start_visitor

pytestmark = pytest.mark.integration

ANSWERS = {"audience": "close", "danger": "unsure", "topic": "drug-running", "region": "skip"}


async def _memberships(clients: ClientFactory, bots: InProcessBots, room: str) -> dict[str, str]:
    admin = await clients.admin(await bot_token(bots.config))
    state = await admin.request("GET", f"/_matrix/client/v3/rooms/{quote(room)}/state")
    return {e["state_key"]: e["content"]["membership"] for e in state if e["type"] == "m.room.member"}  # type: ignore[attr-defined]


async def test_two_concurrent_claims_one_wins_the_other_is_told(bots: InProcessBots, clients: ClientFactory) -> None:
    anna = await add_counsellor(clients, bots.config, bots.db, "anna")
    bram = await add_counsellor(clients, bots.config, bots.db, "bram")
    queue_room = await SystemRoomStore(bots.db).get("queue")
    assert queue_room is not None
    visitor = await start_visitor(clients, bots.api, bots.user_id)
    await answer_all(visitor, ANSWERS)
    for counsellor in (anna, bram):
        await counsellor.wait_for(lambda c=counsellor: c.card(queue_room, visitor.number), what="the card")

    commands = await asyncio.gather(*(c.say(queue_room, f"!claim {visitor.number}") for c in (anna, bram)))
    replies: dict[str, str] = {}
    for counsellor, command in zip((anna, bram), commands, strict=True):
        (reply,) = await counsellor.wait_for(
            lambda c=counsellor, e=command: c.replies_to(queue_room, e), what="a reply"
        )
        replies[counsellor.user_id] = reply
    q = await WorkflowStore(bots.db).get(await _case_id(bots, visitor.number))
    assert q is not None and q.stage == "claimed" and q.claimed_by in (anna.user_id, bram.user_id)
    winner, loser = (anna, bram) if q.claimed_by == anna.user_id else (bram, anna)
    assert replies[winner.user_id] == text("nl", "queue.staff.claimed", number=visitor.number)
    assert replies[loser.user_id] == text("nl", "queue.staff.taken", number=visitor.number, counsellor=winner.user_id)

    await winner.wait_for(lambda: visitor.room in winner.user.client.invited_rooms, what="the winner's invite")
    members = await _memberships(clients, bots, visitor.room)
    assert members.get(winner.user_id) == "invite"
    assert loser.user_id not in members
    await loser.sync()
    assert visitor.room not in loser.user.client.invited_rooms
    claims = [e for e in await CaseLogStore(bots.db).of_case(q.case_id) if e.kind == "claimed"]
    assert [e.actor for e in claims] == [winner.user_id]
    # Moderator power for the counsellor, none for the visitor.
    admin = await clients.admin(await bot_token(bots.config))
    levels = await admin.request("GET", f"/_matrix/client/v3/rooms/{quote(visitor.room)}/state/m.room.power_levels/")
    assert levels["users"] == {bots.user_id: 100, winner.user_id: 50}


async def test_a_thumbs_up_on_the_card_claims_it(bots: InProcessBots, clients: ClientFactory) -> None:
    counsellor = await add_counsellor(clients, bots.config, bots.db)
    queue_room = await SystemRoomStore(bots.db).get("queue")
    assert queue_room is not None
    visitor = await start_visitor(clients, bots.api, bots.user_id)
    await answer_all(visitor, ANSWERS)
    card = await counsellor.wait_for(lambda: counsellor.card(queue_room, visitor.number), what="the card")
    await counsellor.send(
        queue_room,
        "m.reaction",
        {"m.relates_to": {"rel_type": "m.annotation", "event_id": card["event_id"], "key": "👍🏽"}},
    )
    await counsellor.wait_for(lambda: visitor.room in counsellor.user.client.invited_rooms, what="the invite")
    await counsellor.join(visitor.room)
    await _card_says(counsellor, queue_room, card["event_id"], counsellor.user_id)


async def _card_says(observer: Observer, room: str, card: str, needle: str) -> None:
    await observer.wait_for(lambda: needle in observer.latest_card_body(room, card), what=f"the card to say {needle}")


async def _case_id(bots: InProcessBots, number: str) -> str:
    q = await WorkflowStore(bots.db).by_number(number)
    assert q is not None
    return q.case_id
