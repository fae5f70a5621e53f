"""The queue's rules, driven through the assembled bot: a counsellor's workday, urgency,
leaving, reminders and opening hours (moved here from the end-to-end suite, where each of
these took 5 to 10 s against Synapse; the full run and the concurrent claim stay there)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bots.ids import UserID
from bots.texts import text
from tests.support.core import CoreBot, Visitor

ANSWERS = {"audience": "professional", "danger": "no", "topic": "recruitment", "region": "limburg"}
CALM = {"audience": "self", "danger": "no", "topic": "money-mule", "region": "zeeland"}
ZONE = ZoneInfo("Europe/Amsterdam")


def child(core: CoreBot, room: str) -> Any:
    return core.matrix.state.get(core.bot.parts.rooms["space"], {}).get(("m.space.child", room))


def member(core: CoreBot, room: str, user: str) -> str | None:
    return core.matrix.rooms[room].users.get(user)  # type: ignore[index]


async def test_note_release_transfer_quick_exit_and_close(core: CoreBot) -> None:
    anna, bram = await core.add_staff("anna"), await core.add_staff("bram")
    olga = await core.add_staff("olga", "outreach")
    visitor = await core.open_case()
    await visitor.answer_all(ANSWERS)
    queue_room, number = core.queue_room, visitor.number
    q = await core.stores.queue.workflow.by_number(number)
    assert q is not None and q.stage == "waiting" and q.waiting_since is not None
    since = q.waiting_since
    # In the queue: a child of the staff Space, and the case room points back.
    assert child(core, visitor.room_id) == {"via": [core.config.homeserver.server_name]}

    # A note goes under the card, in the queue room only.
    saved = await core.command(queue_room, anna, f"!note {number} belt morgen terug")
    assert saved == text("nl", "queue.staff.note_saved", number=number)
    assert any("belt morgen terug" in body for body in core.thread(number))

    # Anna claims: invited with power; a note typed in the chat moves and is redacted.
    assert await core.command(queue_room, anna, f"!claim {number}") == text("nl", "queue.staff.claimed", number=number)
    assert member(core, visitor.room_id, anna) == "invite"
    levels = core.matrix.state[visitor.room_id][("m.room.power_levels", "")]
    assert levels["users"][anna] == 50
    slip = await core.say(visitor.room_id, anna, f"!note {number} vertelt over een neef")
    assert core.replies(visitor.room_id, slip) == [], "the answer is for staff: not in the chat"
    assert text("nl", "queue.staff.note_moved", number=number) in core.thread(number)
    assert any("vertelt over een neef" in body for body in core.thread(number))
    assert core.matrix.redacted == [(visitor.room_id, slip)]
    assert not any("vertelt" in s.body for s in visitor.heard()), "the note reached the visitor's room"

    # Release: Anna removed, the visitor keeps their place and is told.
    assert await core.command(visitor.room_id, anna, "!release") is None
    assert visitor.last().body.startswith(text("nl", "queue.visitor.released"))
    assert visitor.last().content["nl.keerpunt.queue"]["position"] == 1
    assert member(core, visitor.room_id, anna) == "leave"
    q = await core.stores.queue.workflow.by_number(number)
    assert q is not None and q.stage == "waiting" and q.waiting_since == since
    assert text("nl", "queue.staff.released", counsellor=anna, number=number) in core.thread(number)

    # Bram takes it and hands it on; only counsellors can receive a chat.
    await core.command(queue_room, bram, f"!claim {number}")
    assert await core.command(queue_room, bram, f"!transfer {number} {olga}") == text(
        "nl", "queue.staff.not_a_counsellor", user=olga
    )
    assert await core.command(queue_room, bram, f"!transfer {number} {anna}") == text(
        "nl", "queue.staff.transfer_done", number=number, counsellor=anna
    )
    assert visitor.last().body == text("nl", "queue.visitor.transferred")
    assert member(core, visitor.room_id, anna) == "invite" and member(core, visitor.room_id, bram) == "leave"

    # The visitor flees: the counsellor is told in the chat, the card says it.
    await visitor.end("quick_exit")
    assert visitor.last().body == text("nl", "queue.staff.visitor_quick_exit")
    assert text("nl", "queue.card.departure.quick_exit") in core.card_now(number)

    # Closing needs a known outcome; then the card says closed and the room leaves the Space.
    outcomes = ", ".join(core.config.queue.outcomes)
    assert await core.command(visitor.room_id, anna, "!close") == text(
        "nl", "queue.staff.outcome_missing", example=core.config.queue.outcomes[0], outcomes=outcomes
    )
    assert await core.command(visitor.room_id, anna, "!close fixed") == text(
        "nl", "queue.staff.outcome_unknown", outcome="fixed", outcomes=outcomes
    )
    # Closed without a wrap-up: the counsellor is asked for one under the card (tests/core/test_wrap_up.py).
    lists = {
        "topics": ", ".join(core.config.queue.wrap_up.topics),
        "referrals": ", ".join(core.config.queue.wrap_up.referrals),
    }
    assert await core.command(visitor.room_id, anna, "!close no-contact") == text(
        "nl", "queue.staff.wrap_up_ask", number=number, **lists
    )
    assert "no-contact" in core.card_now(number)
    assert child(core, visitor.room_id) == {}


async def test_a_thumbs_up_on_the_card_claims_it_once(core: CoreBot) -> None:
    anna, bram = await core.add_staff("anna"), await core.add_staff("bram")
    visitor = await core.open_case()
    await visitor.answer_all(ANSWERS)
    card = core.card(visitor.number)
    await core.react(core.queue_room, anna, card.event_id)
    q = await core.stores.queue.workflow.by_number(visitor.number)
    assert q is not None and q.stage == "claimed" and q.claimed_by == anna
    assert visitor.last().body == text("nl", "queue.visitor.claimed")
    await core.react(core.queue_room, bram, card.event_id, "👍🏽")
    assert core.replies(core.queue_room, card.event_id) == [
        text("nl", "queue.staff.taken", number=visitor.number, counsellor=anna)
    ]
    await core.react(core.queue_room, bram, card.event_id, "🎉")  # not a claim: nothing at all
    assert len(core.replies(core.queue_room, card.event_id)) == 1


async def test_a_visitor_who_leaves_the_room_is_taken_out_of_the_queue_and_the_card_says_so(core: CoreBot) -> None:
    visitor = await core.open_case()
    await visitor.answer_all(CALM)
    await core.leave(visitor.room_id, visitor.user_id)
    body = core.card_now(visitor.number)
    assert text("nl", "queue.card.departure.left") in body
    assert text("nl", "queue.card.status.closed_unclaimed") in body and "!claim" not in body
    q = await core.stores.queue.workflow.by_number(visitor.number)
    assert q is not None and q.stage == "closed" and q.departure == "left"


async def test_a_counsellor_who_walks_out_of_a_claimed_chat_puts_it_back_in_the_queue(core: CoreBot) -> None:
    anna = await core.add_staff("anna")
    visitor = await core.open_case()
    await visitor.answer_all(CALM)
    await core.command(core.queue_room, anna, f"!claim {visitor.number}")
    await core.join(visitor.room_id, anna, "Anna")
    await core.leave(visitor.room_id, anna)
    assert visitor.last().body.startswith(text("nl", "queue.visitor.released"))
    assert text("nl", "queue.staff.counsellor_left", counsellor=anna, number=visitor.number) in core.thread(
        visitor.number
    )
    q = await core.stores.queue.workflow.by_number(visitor.number)
    assert q is not None and q.stage == "waiting" and q.claimed_by is None
    case = await core.case(visitor)
    assert ("released", "left_room") in [(e.kind, e.detail) for e in await core.stores.case_log.of_case(case.id)]
    # The join and the leave were each handled once; a replayed leave changes nothing.
    before = len(visitor.heard())
    await core.leave(visitor.room_id, anna)
    assert len(visitor.heard()) == before


async def test_yes_to_danger_gets_112_at_once_and_jumps_the_queue(core: CoreBot) -> None:
    anna = await core.add_staff("anna")
    calm = await core.open_case()
    await calm.answer_all(CALM)
    assert calm.last().content["nl.keerpunt.queue"]["position"] == 1

    urgent = await core.open_case("en")
    await urgent.start("en")
    await urgent.press("audience", "self")
    seen = len(urgent.heard())
    await urgent.press("danger", "yes")
    warning, following = urgent.heard()[seen:]
    assert warning.body == text("en", "triage.urgent") and "112" in warning.body and "0900-8844" in warning.body
    assert following.content["nl.keerpunt.prompt"]["id"] == "topic"

    # Already in the queue, at the head, while the questions go on.
    assert core.card(urgent.number).body.startswith(text("nl", "queue.card.title_urgent", number=urgent.number))
    listing = await core.command(core.queue_room, anna, "!queue")
    assert listing is not None
    assert listing.index(f"Chat {urgent.number}") < listing.index(f"Chat {calm.number}")
    assert f"1. Chat {urgent.number} – URGENT" in listing

    # Nobody claims it: after urgent_reminder_minutes the queue room pings who may take it
    # (never @room: a counsellor on a break is not disturbed; tests/core/test_shift.py).
    core.clock.advance(core.config.queue.urgent_reminder_minutes * 60 + 1)
    await core.settle()
    card = core.card(urgent.number)
    (ping,) = [
        s
        for s in core.sent(core.queue_room)
        if (s.content.get("m.relates_to") or {}).get("m.in_reply_to", {}).get("event_id") == card.event_id
    ]
    assert ping.body.startswith("🚨") and anna in ping.body and ping.content["m.mentions"] == {"user_ids": [anna]}

    # The calm visitor was pushed back to place 2 (told after the minimum interval); once the
    # urgent case is claimed they are first again and told so at once.
    assert calm.last().body == text("nl", "queue.visitor.position", position=2, minutes=30)
    await core.command(core.queue_room, anna, f"!claim {urgent.number}")
    assert calm.last().body == text("nl", "queue.visitor.next")
    assert calm.last().content["nl.keerpunt.queue"]["position"] == 1


async def test_an_unclaimed_case_is_reminded_once_per_interval(core: CoreBot) -> None:
    visitor = await core.open_case()
    await visitor.answer_all(CALM)
    reminder = text("nl", "queue.staff.reminder", number=visitor.number, minutes=30)
    core.clock.advance(29 * 60)
    await core.settle()
    assert reminder not in core.thread(visitor.number)
    core.clock.advance(61)
    await core.settle()
    await core.settle()
    assert core.thread(visitor.number).count(reminder) == 1


def closed_on(day: date) -> dict[str, Any]:
    # Up to two days pass before the chat closes: no lifecycle timer may close the cases first.
    timers = ("never_wrote", "silent_in_triage", "silent_in_queue", "idle_warning")
    return {
        "queue": {"reminder_minutes": 30, "urgent_reminder_minutes": 5},
        "hours": {"closed_dates": [day.isoformat()], "apply_in_dev": True},
        "lifecycle": {f"{timer}_minutes": 3000 for timer in timers},
    }


# Two days ahead, not one: the date is taken when the file is collected, and a run that crosses
# midnight before this test would otherwise close the chat on a day that has begun already.
CLOSED_DAY = datetime.now(ZONE).date() + timedelta(days=2)


@pytest.mark.parametrize("core_config", [closed_on(CLOSED_DAY)])
async def test_when_the_chat_closes_the_bot_says_when_it_opens_again(core: CoreBot) -> None:
    waiting = await core.open_case("en")
    await waiting.answer_all({q.id: "skip" for q in core.app.definition.questions})
    late = await core.open_case("nl")  # made just before closing; its visitor speaks after

    closing = datetime.combine(CLOSED_DAY, datetime.min.time(), tzinfo=ZONE) + timedelta(seconds=30)
    core.clock.advance(closing.timestamp() - core.clock.now())
    await core.settle()
    portal = core.config.portal.public_url
    expected = text("en", "queue.visitor.hours_closed", opens=text("en", "when.tomorrow", time="00:00"), portal=portal)
    assert waiting.last().kind == "queue.hours_closed" and waiting.last().body == expected
    assert "112" in expected and "0900-8844" in expected and portal in expected

    await late.start()
    greeting, closed = late.heard()
    assert greeting.body == text("nl", "greeting.welcome")
    assert closed.body == text(
        "nl", "queue.visitor.hours_closed", opens=text("nl", "when.tomorrow", time="00:00"), portal=portal
    )
    # No questions now; the case waits in the queue with a card, so nobody is forgotten.
    assert core.card(late.number)
    q = await core.stores.queue.workflow.by_number(late.number)
    assert q is not None and q.stage == "waiting"
    progress = await core.stores.queue.triage.get(q.case_id)
    assert progress is not None and progress.done


async def test_a_thumbs_up_counts_only_while_every_device_of_the_counsellor_is_cross_signed(core: CoreBot) -> None:
    anna = await core.add_staff("anna")
    visitor = await core.open_case()
    await visitor.answer_all(ANSWERS)
    card = core.card(visitor.number)
    core.trust.untrusted.add(anna)  # a new session of Anna's that nobody verified (a stolen token?)
    await core.react(core.queue_room, anna, card.event_id)
    assert core.replies(core.queue_room, card.event_id) == [
        text("nl", "queue.staff.reaction_unverified", number=visitor.number)
    ]
    q = await core.stores.queue.workflow.by_number(visitor.number)
    assert q is not None and q.stage == "waiting"
    core.trust.untrusted.clear()
    await core.react(core.queue_room, anna, card.event_id, "👍🏻")
    q = await core.stores.queue.workflow.by_number(visitor.number)
    assert q is not None and q.stage == "claimed" and q.claimed_by == anna


async def test_a_changed_staff_identity_is_announced_once_per_new_key(core: CoreBot) -> None:
    anna = await core.add_staff("anna")
    await core.stores.pins.pin(anna, "first-master-key", 1)
    notice = text("nl", "queue.staff.identity_changed", user=anna)
    for _ in range(2):
        await core.trust.on_change(anna, "second-master-key")
        await core.settle()
    assert [s.body for s in core.sent(core.queue_room)].count(notice) == 1
    await core.trust.on_change(anna, "third-master-key")
    await core.settle()
    assert [s.body for s in core.sent(core.queue_room)].count(notice) == 2
    # A visitor's or partner's changed identity is nothing for the queue room.
    await core.trust.on_change(UserID("@visitor-x:localhost"), "k")
    await core.settle()
    assert [s.body for s in core.sent(core.queue_room)].count(notice) == 2


async def test_only_the_counsellor_who_has_the_chat_hands_it_on(core: CoreBot) -> None:
    anna, bram, cas = await core.add_staff("anna"), await core.add_staff("bram"), await core.add_staff("cas")
    visitor = await core.open_case()
    await visitor.answer_all(CALM)
    number = visitor.number
    # From the queue a counsellor can only take a chat themselves.
    assert await core.command(core.queue_room, anna, f"!transfer {number} {bram}") == text(
        "nl", "queue.staff.transfer_unclaimed", number=number
    )
    assert await core.command(core.queue_room, anna, f"!transfer {number} {anna}") == text(
        "nl", "queue.staff.transfer_done", number=number, counsellor=anna
    )
    # Someone else's chat cannot be handed on (or taken) with !transfer.
    assert await core.command(core.queue_room, cas, f"!transfer {number} {cas}") == text(
        "nl", "queue.staff.not_yours", number=number
    )
    q = await core.stores.queue.workflow.by_number(number)
    assert q is not None and q.claimed_by == anna
    assert await core.command(core.queue_room, anna, f"!transfer {number} {bram}") == text(
        "nl", "queue.staff.transfer_done", number=number, counsellor=bram
    )


async def test_a_counsellors_new_session_gets_every_live_card_again(core: CoreBot) -> None:
    anna, bram = await core.add_staff("anna"), await core.add_staff("bram")
    waiting, claimed, done = await core.open_case(), await core.open_case(), await core.open_case()
    for visitor in (waiting, claimed, done):
        await visitor.answer_all(CALM)
    await core.command(core.queue_room, bram, f"!claim {claimed.number}")
    await core.command(core.queue_room, bram, f"!claim {done.number}")
    await core.command(done.room_id, bram, "!close helped")
    first = {v.number: core.card(v.number).event_id for v in (waiting, claimed, done)}
    # Anna's known session is recorded the first time her devices are seen: nothing happens.
    await core.bot.router.on_devices_changed([anna])
    await core.settle()
    assert {v.number: core.card(v.number).event_id for v in (waiting, claimed, done)} == first
    # She signs in on a new laptop: the live cards come again, the old ones are redacted.
    core.trust.devices[anna] = {"DEVICE1", "NEWLAPTOP"}
    await core.bot.router.on_devices_changed([anna])
    await core.settle()
    cards = [
        s for s in core.sent(core.queue_room) if "nl.keerpunt.card" in s.content and "m.new_content" not in s.content
    ]
    for visitor in (waiting, claimed):
        latest = [c for c in cards if c.content["nl.keerpunt.card"]["case"] == visitor.number][-1]
        assert latest.event_id != first[visitor.number]
        assert (core.queue_room, first[visitor.number]) in core.matrix.redacted
        q = await core.stores.queue.workflow.by_number(visitor.number)
        card = await core.stores.queue.cards.get(q.case_id) if q else None
        assert card is not None and card.event_id == latest.event_id
    assert len([c for c in cards if c.content["nl.keerpunt.card"]["case"] == done.number]) == 1, "closed: not again"
    # A 👍 on the new card still claims.
    await core.react(
        core.queue_room,
        anna,
        [c for c in cards if c.content["nl.keerpunt.card"]["case"] == waiting.number][-1].event_id,
    )
    q = await core.stores.queue.workflow.by_number(waiting.number)
    assert q is not None and q.claimed_by == anna


async def test_one_network_moves_at_most_two_urgent_cases_an_hour_to_the_front(core: CoreBot) -> None:
    """A flood of "in danger" answers from one network cannot push everyone else back."""
    anna = await core.add_staff("anna")
    calm = await core.open_case()
    await calm.answer_all(CALM)
    core.clock.advance(60)  # the calm visitor has waited longer than anyone after them
    limit = core.config.bots.rate_limit.urgent_per_client_per_hour
    assert limit == 2

    async def in_danger(client: str) -> Visitor:
        visitor = await core.open_case("en", client=client)
        await visitor.start("en")
        await visitor.press("audience", "self")
        seen = len(visitor.heard())
        await visitor.press("danger", "yes")
        # The 112 message always comes, whatever the limit.
        assert visitor.heard()[seen].body == text("en", "triage.urgent")
        return visitor

    first, second = await in_danger("192.0.2.10"), await in_danger("192.0.2.77")
    third = await in_danger("192.0.2.200")  # the same /24: the third this hour
    other = await in_danger("198.51.100.5")  # another network is not affected
    for jumped in (first, second, other):
        assert core.card(jumped.number).body.startswith(text("nl", "queue.card.title_urgent", number=jumped.number))
    assert not core.card(third.number).body.startswith(text("nl", "queue.card.title_urgent", number=third.number))
    held = text("nl", "queue.staff.urgent_held_back", number=third.number, limit=limit)
    assert held in core.thread(third.number)
    listing = await core.command(core.queue_room, anna, "!queue")
    assert listing is not None
    assert f"Chat {third.number} – URGENT" not in listing
    assert listing.index(f"Chat {calm.number}") < listing.index(f"Chat {third.number}")

    # An hour later the network may again.
    core.clock.advance(3601)
    fourth = await in_danger("192.0.2.11")
    assert core.card(fourth.number).body.startswith(text("nl", "queue.card.title_urgent", number=fourth.number))


def live_cards(core: CoreBot, *visitors: Visitor) -> dict[str, list[str]]:
    """Every card posted (not edits) per case, oldest first."""
    return {
        v.number: [
            s.event_id
            for s in core.sent(core.queue_room)
            if (s.content.get("nl.keerpunt.card") or {}).get("case") == v.number and "m.new_content" not in s.content
        ]
        for v in visitors
    }


async def test_a_new_counsellors_first_device_gets_the_live_cards_again(core: CoreBot) -> None:
    first, second = await core.open_case(), await core.open_case()
    for visitor in (first, second):
        await visitor.answer_all(CALM)
    before = live_cards(core, first, second)
    # A counsellor added after the cards were posted: their identity appears before any device
    # is signed (bootstrapping cross-signing): the cards are owed, nothing is posted yet.
    nina = await core.add_staff("nina")
    core.trust.devices[nina] = set()
    await core.app.hooks.identity_pinned(nina)
    await core.settle()
    assert live_cards(core, first, second) == before
    # Her first device is signed: sync says her devices changed, and both cards come again.
    core.trust.devices[nina] = {"NINAPHONE"}
    await core.bot.router.on_devices_changed([nina])
    await core.settle()
    after = live_cards(core, first, second)
    for number, cards in after.items():
        assert len(cards) == 2 and cards[0] == before[number][0]
        assert (core.queue_room, cards[0]) in core.matrix.redacted
    # Paid once: the same devices again change nothing.
    await core.bot.router.on_devices_changed([nina])
    await core.settle()
    assert live_cards(core, first, second) == after


async def test_after_an_identity_reset_is_trusted_the_live_cards_come_again_without_a_sync(core: CoreBot) -> None:
    anna = await core.add_staff("anna")
    visitor = await core.open_case()
    await visitor.answer_all(CALM)
    await core.bot.router.on_devices_changed([anna])  # her known device
    await core.settle()
    before = live_cards(core, visitor)
    # `keerpunt staff reset-identity`; the trust policy pins her new identity the next time it
    # looks her up, her device already signed by it: the worker posts the cards by itself.
    await core.app.hooks.identity_pinned(anna)
    await core.settle()
    assert len(live_cards(core, visitor)[visitor.number]) == len(before[visitor.number]) + 1


async def test_a_reply_under_a_card_that_was_posted_again_is_still_redacted_with_the_case(core: CoreBot) -> None:
    anna = await core.add_staff("anna")
    visitor = await core.open_case()
    await visitor.answer_all(CALM)
    old = core.card(visitor.number).event_id
    await core.app.hooks.identity_pinned(anna)  # her first identity: the cards come again
    await core.settle()
    assert len(live_cards(core, visitor)[visitor.number]) == 2
    relates = {"rel_type": "m.thread", "event_id": old, "m.in_reply_to": {"event_id": old}}
    reply = await core.say(core.queue_room, anna, "nog onder de oude kaart", **{"m.relates_to": relates})
    case = await core.case(visitor)
    traced = await core.stores.traces.of_case(case.id)
    assert reply in [event_id for _, event_id in traced]
