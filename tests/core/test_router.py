"""The router: each event exactly once, and only what DESIGN.md rule 3 lets through."""

from __future__ import annotations

from bots.ids import RoomID
from bots.texts import text
from tests.support.core import CoreBot

ANSWERS = {"audience": "self", "danger": "no", "topic": "other", "region": "unknown"}


async def test_a_replayed_event_is_handled_once(core: CoreBot) -> None:
    visitor = await core.open_case()
    start = core.event(visitor.user_id, "nl.keerpunt.start", {"language": "nl"})
    await core.feed(visitor.room_id, start)
    greeted = len(visitor.heard())
    assert greeted >= 2  # the greeting and the first question
    await core.feed(visitor.room_id, start)  # the same batch again, after a crash
    assert len(visitor.heard()) == greeted
    anna = await core.add_staff("anna")
    command = core.event(anna, "m.room.message", {"msgtype": "m.text", "body": "!queue"})
    await core.feed(core.queue_room, command)
    await core.feed(core.queue_room, command)
    assert len(core.replies(core.queue_room, command.event_id)) == 1


async def test_unencrypted_messages_and_untrusted_devices_are_recorded_and_ignored(core: CoreBot) -> None:
    visitor = await core.open_case()
    clear = core.event(visitor.user_id, "nl.keerpunt.start", {"language": "nl"}, encrypted=False)
    await core.feed(visitor.room_id, clear)
    assert visitor.heard() == []
    anna = await core.add_staff("anna")
    core.trust.untrusted.add(anna)
    ignored = await core.say(core.queue_room, anna, "!help")
    assert core.replies(core.queue_room, ignored) == []
    outcomes = {r.event_id: r.outcome for r in await core.stores.handled.in_room(visitor.room_id)}
    outcomes |= {r.event_id: r.outcome for r in await core.stores.handled.in_room(core.queue_room)}
    assert outcomes[clear.event_id] == "ignored_unencrypted"
    assert outcomes[ignored] == "ignored_untrusted"
    core.trust.untrusted.clear()
    answered = await core.say(core.queue_room, anna, "!help")
    assert core.replies(core.queue_room, answered)[0].startswith(text("nl", "commands.help_header"))


async def test_rooms_the_bot_does_not_know_and_its_own_events_are_not_looked_at(core: CoreBot) -> None:
    anna = await core.add_staff("anna")
    stranger_room = RoomID("!elsewhere:localhost")
    await core.say(stranger_room, anna, "!queue")
    own = await core.say(core.queue_room, core.bot_id, "!queue")
    assert core.sent() == [s for s in core.sent() if s.room_id != stranger_room]
    assert core.replies(core.queue_room, own) == []
    assert await core.stores.handled.in_room(stranger_room) == []


async def test_the_visitor_is_answered_only_while_the_case_is_open(core: CoreBot) -> None:
    visitor = await core.open_case()
    await visitor.answer_all(ANSWERS)
    heard = len(visitor.heard())
    await visitor.end()
    await visitor.say("hallo?")
    assert [s for s in visitor.heard()[heard:] if s.kind and s.kind.startswith("triage")] == []


async def test_membership_changes_nobody_acts_on_leave_no_trace(core: CoreBot) -> None:
    visitor = await core.open_case()
    await core.join(visitor.room_id, visitor.user_id, "Bezoeker")
    await core.join(core.queue_room, "@anna:localhost", "Anna")
    assert await core.stores.handled.in_room(visitor.room_id) == []
    assert await core.stores.handled.in_room(core.queue_room) == []
