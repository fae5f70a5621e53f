"""The router: each event exactly once, and only what DESIGN.md rule 3 lets through."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from nio import EncryptionError, Event, MegolmEvent

from bots.ids import RoomID
from bots.router import MAX_PARKED_PER_ROOM, MAX_TRIES
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


def undecryptable(core: CoreBot, sender: str) -> MegolmEvent:
    """An encrypted event whose room key never comes (the fake client holds none)."""
    content = {
        "algorithm": "m.megolm.v1.aes-sha2",
        "ciphertext": "AwgAEpAB",
        "sender_key": "c2VuZGVyLWtleQ",
        "session_id": "c2Vzc2lvbi1pZA",
        "device_id": "DEVICE",
    }
    event = Event.parse_event(
        {
            "event_id": f"$enc{core.matrix.new_id('e')}",
            "sender": sender,
            "type": "m.room.encrypted",
            "content": content,
            "origin_server_ts": int(core.clock.now() * 1000),
        }
    )
    assert isinstance(event, MegolmEvent)
    return event


async def test_an_event_whose_room_key_never_comes_is_tried_a_bounded_number_of_times(
    core: CoreBot, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Review L4: not every batch for ever (nor for a quarter of an hour): soon at first, then
    less often, at most MAX_TRIES times; then recorded, and one count in the log names nothing."""
    visitor = await core.open_case()
    tried: list[str] = []

    def decrypt(event: Any) -> Any:
        tried.append(event.event_id)
        raise EncryptionError("no room key")

    monkeypatch.setattr(core.matrix, "decrypt_event", decrypt)
    event = undecryptable(core, visitor.user_id)
    await core.bot.router.on_room_event(visitor.room_id, event)
    with caplog.at_level(logging.INFO):
        for _ in range(20 * 60 // 5):  # a batch every 5 seconds for 20 minutes
            core.clock.advance(5)
            await core.bot.router.after_batch()
    assert 1 < len(tried) <= MAX_TRIES
    assert await core.stores.pending.all() == []
    outcomes = {r.event_id: r.outcome for r in await core.stores.handled.in_room(visitor.room_id)}
    assert outcomes[event.event_id] == "undecryptable"
    given_up = [r.getMessage() for r in caplog.records if "never arrived" in r.getMessage()]
    assert given_up == ["Gave up on 1 encrypted event(s) whose room key never arrived"]
    for record in caplog.records:
        message = record.getMessage()
        assert visitor.room_id not in message and event.event_id not in message and visitor.user_id not in message


async def test_a_flood_of_undecryptable_events_keeps_only_a_bounded_number_waiting(core: CoreBot) -> None:
    visitor = await core.open_case()
    flood = [undecryptable(core, visitor.user_id) for _ in range(MAX_PARKED_PER_ROOM + 20)]
    for event in flood:
        await core.bot.router.on_room_event(visitor.room_id, event)
    assert await core.stores.pending.count_in_room(visitor.room_id) == MAX_PARKED_PER_ROOM
    outcomes = {r.event_id: r.outcome for r in await core.stores.handled.in_room(visitor.room_id)}
    assert [outcomes.get(e.event_id) for e in flood[MAX_PARKED_PER_ROOM:]] == ["undecryptable"] * 20
