"""After the room: the counsellor is reminded until the handover is settled; a partner who
declines gives a reason the counsellor reads under the case card, and the reminders stop."""

from __future__ import annotations

import pytest

from bots.db.case import CaseStore
from bots.db.handover import HandoverStore
from bots.db.system_room import SystemRoomStore
from bots.ids import RoomID
from bots.texts import text
from tests.support.bots import InProcessBots
from tests.support.handover import SUMMARY, Partners, claimed_case, handover_room, new_invite, room_state, wait_kind
from tests.support.matrix_clients import ClientFactory
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration


@pytest.mark.fresh_bots("moves the clock")
async def test_reminder_then_partner_declines_with_a_reason(
    bots: InProcessBots, clients: ClientFactory, partners: Partners
) -> None:
    bot = bots.user_id
    visitor, counsellor = await claimed_case(clients, bots.config, bots.db, bots.api)
    queue_room = await SystemRoomStore(bots.db).get("queue")
    assert queue_room is not None
    card = counsellor.card(queue_room, visitor.number)
    assert card is not None
    police = partners.police
    room = await handover_room(visitor, counsellor, police, "politie", SUMMARY)

    # An hour on (reminder_hours: 1): the counsellor is reminded under the card, by mention.
    bots.clock.advance(3700)
    reminder = text("nl", "handover.staff.reminder", number=visitor.number, partner="Politie")
    ping = await counsellor.wait_message(
        queue_room, bot, lambda e: e["content"]["body"] == reminder, within=30, what="the reminder"
    )
    assert ping["content"]["m.mentions"] == {"user_ids": [counsellor.user_id]}
    assert ping["content"]["m.relates_to"]["m.in_reply_to"]["event_id"] == card["event_id"]

    no_reason = await police.say(room, "!decline")
    (answer,) = await police.wait_for(lambda: police.replies_to(room, no_reason), what="the reason request")
    assert answer == text("nl", "handover.staff.decline_reason")
    await police.say(room, "!decline Wij doen alleen aangiftes, geen opvang.")
    declined = await wait_kind(police, room, bot, "handover.partner_declined")
    assert declined["content"]["body"] == text("nl", "handover.visitor.partner_declined", partner="Politie")
    reason = await counsellor.wait_for(
        lambda: [b for b in counsellor.in_thread(queue_room, card["event_id"]) if "geen opvang" in b],
        what="the reason in the card's thread",
    )
    assert police.user_id in reason[0]
    case = await CaseStore(bots.db).by_room(RoomID(visitor.room))
    assert case is not None
    (record,) = await HandoverStore(bots.db).of_case(case.id)
    assert record.stage == "refused" and record.reminder_due is None

    # The partner who declined no longer reads along.
    async def removed() -> bool:
        state = await room_state(clients, room)
        members = {e["state_key"]: e["content"]["membership"] for e in state if e["type"] == "m.room.member"}
        return members.get(police.user_id) == "leave"

    await wait_until(removed, what="the declining partner to be taken out of the room")

    # Settled by the partner's no: nothing left for !handover-status, and no new reminder.
    status = await counsellor.say(visitor.room, "!handover-status arrived")
    (reply,) = await counsellor.wait_for(lambda: counsellor.replies_to(visitor.room, status), what="the answer")
    assert reply == text("nl", "handover.staff.no_handover", number=visitor.number)
    bots.clock.advance(7400)
    assert bots.service is not None and bots.service.handover is not None
    await bots.service.handover.step()  # a whole round at the new time, not a race with its timer
    assert bots.service.sender is not None
    await bots.service.sender.flush()
    await counsellor.sync()
    assert [e for e in counsellor.messages(queue_room, bot) if e["content"]["body"] == reminder] == [ping]


async def test_the_partner_is_told_when_the_visitor_leaves(
    bots: InProcessBots, clients: ClientFactory, partners: Partners
) -> None:
    bot = bots.user_id
    visitor, counsellor = await claimed_case(clients, bots.config, bots.db, bots.api)
    care = partners.care
    room = await handover_room(visitor, counsellor, care, "jeugdzorg-utrecht", SUMMARY)
    await visitor.observer.join(await new_invite(visitor.observer))

    await visitor.observer.user.client.room_leave(room)
    left = await wait_kind(care, room, bot, "handover.visitor_left")
    assert left["content"]["body"] == text("nl", "handover.staff.visitor_left")
