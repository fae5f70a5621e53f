"""A counsellor's shift on Element's own crypto stack (issue 24), against a real Synapse: the
counsellor is matrix-js-sdk with the Rust crypto in strict mode (``tests/support/element.py``), on
a first device that sets up its own cross-signing, as Element does.

- at capacity 1, ``!claim``, 👍 and ``!next`` are refused with the reason; after ``!close`` the
  next ``!next`` takes the most urgent case;
- on a break no reminder mentions them, and ``!queue`` shows them on a break;
- a first-ever counsellor device, signed while two cards wait, decrypts both within 10 s.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from typing import Any

import pytest

from bots.db.queue.workflow import WorkflowStore
from bots.db.staff import StaffStore
from bots.db.system_room import SystemRoomStore
from bots.ids import RoomID
from bots.texts import text
from tests.support.bots import InProcessBots
from tests.support.element import ElementClient
from tests.support.matrix_clients import ClientFactory
from tests.support.staff import add_counsellor, bot_token
from tests.support.triage import Visitor, answer_all, start_visitor

pytestmark = pytest.mark.integration

CALM = {"audience": "self", "danger": "no", "topic": "debts", "region": "friesland"}
URGENT = {"audience": "self", "danger": "yes", "topic": "debts", "region": "friesland"}
WITHIN = 10.0  # issue 24: a first device decrypts the waiting cards within 10 s of being signed


@pytest.fixture(scope="module")
def bots_extra() -> dict[str, Any]:
    # Reminders after six seconds, so the break's silence is seen within a test.
    return {"queue": {"reminder_minutes": 0.1, "urgent_reminder_minutes": 0.1}}


async def queue_room_of(bots: InProcessBots) -> RoomID:
    room = await SystemRoomStore(bots.db).get("queue")
    assert room is not None
    return room


async def element_counsellor(clients: ClientFactory, bots: InProcessBots) -> ElementClient:
    """A new counsellor (as `keerpunt staff add` makes one: staff, in the queue room), signed in
    with Element for the first time."""
    password = secrets.token_urlsafe(16)
    registration = await (await clients.admin()).register(f"element-{secrets.token_hex(5)}", password)
    await StaffStore(bots.db).add(registration.user_id, "counsellor")
    admin = await clients.admin(await bot_token(bots.config))
    await admin.force_join(await queue_room_of(bots), registration.user_id)
    return await ElementClient.start(clients.synapse.url, registration.user_id, password)


async def waiting(clients: ClientFactory, bots: InProcessBots, answers: dict[str, str] = CALM) -> Visitor:
    visitor = await start_visitor(clients, bots.api, bots.user_id)
    await answer_all(visitor, answers)
    return visitor


async def command(element: ElementClient, room: str, body: str) -> str:
    """Send a command in ``room`` and return the bot's reply to it."""
    return await element.reply_to(room, await element.say(room, body))


async def test_at_capacity_one_claim_thumbs_up_and_next_are_refused_and_after_the_close_next_takes_the_urgent_case(
    bots: InProcessBots, clients: ClientFactory
) -> None:
    element = await element_counsellor(clients, bots)
    try:
        room = await queue_room_of(bots)
        assert await command(element, room, "!capacity 1") == text("nl", "shift.capacity_set", capacity=1, chats=0)
        first, calm = await waiting(clients, bots), await waiting(clients, bots)
        card = await element.wait_for(lambda: element.card(room, calm.number), what="the calm chat's card")
        await element.wait_for(lambda: element.card(room, first.number), what="the first chat's card")

        assert await command(element, room, f"!claim {first.number}") == text(
            "nl", "queue.staff.claimed", number=first.number
        )
        await element.wait_for(lambda: first.room in element.invites, what="the invite")
        await element.join(first.room)

        full = text("nl", "counsellors.refused.at_capacity", number=calm.number, who="", chats="1", capacity="1")
        assert await command(element, room, f"!claim {calm.number}") == full
        await element.react(room, card["event_id"])
        await element.wait_for(lambda: full in element.replies_to(room, card["event_id"]), what="the 👍's refusal")
        assert await command(element, room, "!next") == text(
            "nl", "counsellors.refused.at_capacity", number="", who="", chats="1", capacity="1"
        )
        workflow = WorkflowStore(bots.db)
        q = await workflow.by_number(calm.number)
        assert q is not None and q.stage == "waiting"

        # An urgent chat arrives after the calm one; the counsellor closes hers, then !next.
        urgent = await waiting(clients, bots, URGENT)
        await element.wait_for(lambda: element.card(room, urgent.number), what="the urgent chat's card")
        await element.say(first.room, "!close helped debts police")
        await _wait_closed(bots, first.number)
        assert await command(element, room, "!next") == text("nl", "queue.staff.claimed", number=urgent.number)
        q = await workflow.by_number(urgent.number)
        assert q is not None and q.claimed_by == element.user_id
        q = await workflow.by_number(calm.number)
        assert q is not None and q.stage == "waiting"
        await element.wait_for(lambda: urgent.room in element.invites, what="the urgent chat's invite")
    finally:
        await element.close()


async def _wait_closed(bots: InProcessBots, number: str, within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    while True:
        q = await WorkflowStore(bots.db).by_number(number)
        if q is not None and q.stage == "closed":
            return
        assert time.monotonic() < deadline, f"chat {number} was not closed"
        await asyncio.sleep(0.1)


async def test_on_a_break_no_reminder_mentions_them_and_the_queue_shows_them_on_a_break(
    bots: InProcessBots, clients: ClientFactory
) -> None:
    element = await element_counsellor(clients, bots)
    anna = await add_counsellor(clients, bots.config, bots.db, "anna")
    try:
        room = await queue_room_of(bots)
        assert await command(element, room, "!pauze") == text("nl", "shift.paused", chats=0)
        visitor = await waiting(clients, bots)
        card = await element.wait_for(lambda: element.card(room, visitor.number), what="the card")

        def reminders() -> list[dict[str, Any]]:
            return [
                e
                for e in element.messages(room)
                if str(e["content"].get("body", "")).startswith("⏰")
                and (e["content"].get("m.relates_to") or {}).get("m.in_reply_to", {}).get("event_id")
                == card["event_id"]
            ]

        (reminder, *_) = await element.wait_for(reminders, within=30, what="a reminder")
        mentioned = reminder["content"]["m.mentions"].get("user_ids", [])
        assert anna.user_id in mentioned and element.user_id not in mentioned
        assert "room" not in reminder["content"]["m.mentions"]
        assert element.user_id not in reminder["content"]["body"]
        listing = await command(element, room, "!queue")
        on_break = text("nl", "counsellors.roster.break", user=element.user_id, chats=0, capacity=3)
        assert on_break in listing.splitlines()
        assert await command(element, room, f"!claim {visitor.number}") == text(
            "nl", "counsellors.refused.on_break", number=visitor.number, who=""
        )
        await anna.say(room, f"!claim {visitor.number}")  # out of the way of the next tests
    finally:
        await element.close()


async def test_a_first_ever_counsellor_device_signed_while_two_cards_wait_decrypts_both_within_ten_seconds(
    bots: InProcessBots, clients: ClientFactory
) -> None:
    room = await queue_room_of(bots)
    visitors = [await waiting(clients, bots) for _ in range(2)]
    watcher = await add_counsellor(clients, bots.config, bots.db, "watcher")
    for visitor in visitors:
        await watcher.wait_for(lambda v=visitor: watcher.card(room, v.number), what="the card")
    element = await element_counsellor(clients, bots)
    try:
        assert element.signed_at is not None

        def readable() -> set[str]:
            numbers = {v.number for v in visitors}
            return {n for n in numbers if element.card(room, n) is not None}

        left = WITHIN - (time.monotonic() - element.signed_at)
        with contextlib.suppress(AssertionError):
            await element.wait_for(lambda: readable() == {v.number for v in visitors}, within=left, what="the cards")
        took = time.monotonic() - element.signed_at
        print(f"js-sdk (strict) first device: waiting cards readable {sorted(readable())} after {took:.2f} s")
        assert readable() == {v.number for v in visitors}, (
            f"within {WITHIN} s of setting up its cross-signing the new counsellor's first device read "
            f"cards {sorted(readable())} of {sorted(v.number for v in visitors)}"
        )
        shields = [(element.card(room, v.number) or {}).get("shield") for v in visitors]
        assert all(s == {"colour": 0, "reason": None} for s in shields), shields
    finally:
        await element.close()
