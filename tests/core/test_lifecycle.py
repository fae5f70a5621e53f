"""Every case ends (SECURITY.md G.29): the clock moves through every state a case can be in."""

from __future__ import annotations

from bots.texts import text
from tests.support.core import CoreBot, Visitor

CALM = {"audience": "self", "danger": "no", "topic": "debts", "region": "zeeland"}
MINUTE = 60


async def reasons(core: CoreBot, *visitors: Visitor) -> list[str | None]:
    return [(await core.case(v)).close_reason for v in visitors]


async def test_every_state_a_case_can_be_in_ends(core: CoreBot) -> None:
    anna = await core.add_staff("anna")
    never = await core.open_case()  # the widget never sent its first event
    in_triage = await core.open_case()
    await in_triage.start()
    await in_triage.press("audience", "self")
    waiting = await core.open_case("en")
    await waiting.answer_all(CALM)
    left = await core.open_case()
    await left.answer_all(CALM)
    await core.leave(left.room_id, left.user_id)
    talking = await core.open_case()  # claimed; the phone's browser was killed, no end request
    await talking.answer_all(CALM)
    await core.command(core.queue_room, anna, f"!claim {talking.number}")
    ended = await core.open_case()
    await ended.answer_all(CALM)
    await ended.end("ended")
    fled = await core.open_case()
    await fled.start()
    await fled.end("quick_exit")
    closed = await core.open_case()
    await closed.answer_all(CALM)
    await core.command(core.queue_room, anna, f"!claim {closed.number}")
    await core.command(closed.room_id, anna, "!close helped")
    everyone = (never, in_triage, waiting, left, talking, ended, fled, closed)
    assert await reasons(core, *everyone) == [None, None, None, "left", None, "ended", "quick_exit", "counsellor"]

    lifecycle = core.config.lifecycle
    core.clock.advance(max(lifecycle.never_wrote_minutes, lifecycle.silent_in_triage_minutes) * MINUTE + 1)
    await core.settle()
    assert await reasons(core, never, in_triage) == ["abandoned", "abandoned"]
    assert in_triage.last().body == text("nl", "queue.visitor.closed_abandoned")
    assert (await core.case(waiting)).state == "open", "waiting quietly in the queue is allowed for longer"

    core.clock.advance(lifecycle.silent_in_queue_minutes * MINUTE)
    await core.settle()
    assert await reasons(core, waiting) == ["abandoned"]
    assert waiting.last().body == text("en", "queue.visitor.closed_abandoned")
    assert text("nl", "queue.card.departure.abandoned") in core.card_now(waiting.number)

    # The claimed chat: the counsellor is warned under the card first; then it closes.
    warning = [b for b in core.thread(talking.number) if b.startswith(f"In chat {talking.number}")]
    assert len(warning) == 1
    assert (await core.case(talking)).state == "open"
    core.clock.advance(lifecycle.idle_close_minutes * MINUTE + 1)
    await core.settle()
    assert await reasons(core, talking) == ["timeout"]
    assert talking.last().body == text("nl", "queue.visitor.closed_timeout")
    assert text("nl", "queue.staff.timed_out", number=talking.number) in core.thread(talking.number)

    assert all(case.state == "closed" for case in [await core.case(v) for v in everyone])
    # Erased after the grace period, like any close.
    core.clock.advance(core.config.queue.erase_after_minutes * MINUTE + 1)
    await core.settle()
    assert {v.user_id for v in everyone} <= set(core.matrix.deactivated)


async def test_a_live_conversation_is_warned_first_and_kept_open_by_a_message(core: CoreBot) -> None:
    anna = await core.add_staff("anna")
    visitor = await core.open_case()
    await visitor.answer_all(CALM)
    await core.command(core.queue_room, anna, f"!claim {visitor.number}")
    lifecycle = core.config.lifecycle
    core.clock.advance(lifecycle.idle_warning_minutes * MINUTE - 5)
    await core.settle()
    assert not [b for b in core.thread(visitor.number) if b.startswith(f"In chat {visitor.number}")]
    core.clock.advance(10)
    await core.settle()
    warnings = [b for b in core.thread(visitor.number) if b.startswith(f"In chat {visitor.number}")]
    assert warnings == [
        text(
            "nl",
            "queue.staff.idle_warning",
            number=visitor.number,
            minutes=int(lifecycle.idle_warning_minutes),
            close=int(lifecycle.idle_close_minutes),
        )
    ]
    await visitor.say("ben je er nog?")  # a message ends the warning: the timer starts again
    core.clock.advance(lifecycle.idle_close_minutes * MINUTE + 1)
    await core.settle()
    assert (await core.case(visitor)).state == "open"
    core.clock.advance(lifecycle.idle_warning_minutes * MINUTE)
    await core.settle()
    assert len([b for b in core.thread(visitor.number) if b.startswith(f"In chat {visitor.number}")]) == 2
    assert (await core.case(visitor)).state == "open"


async def test_a_visitor_who_signed_out_is_a_quick_exit_even_without_the_end_request(core: CoreBot) -> None:
    anna = await core.add_staff("anna")
    visitor = await core.open_case()
    await visitor.answer_all(CALM)
    await core.command(core.queue_room, anna, f"!claim {visitor.number}")
    bystander = await core.open_case()
    await bystander.start()
    # The widget's logout won the race with its end request: the only news is the device list.
    core.matrix.signed_out.add(visitor.user_id)
    await core.bot.router.on_devices_changed([visitor.user_id, bystander.user_id, anna])
    await core.settle()
    assert await reasons(core, visitor, bystander) == ["quick_exit", None]
    assert visitor.user_id in core.matrix.deactivated and bystander.user_id not in core.matrix.deactivated
    assert visitor.last().body == text("nl", "queue.staff.visitor_quick_exit")
    assert text("nl", "queue.card.departure.quick_exit") in core.card_now(visitor.number)
