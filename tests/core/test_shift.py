"""A counsellor's shift (issue 24): a limit of simultaneous chats, breaks, ``!next``, who the
reminders mention, and what the queue room, the staff Space and waiting visitors are told."""

from __future__ import annotations

import pytest

from bots.ids import UserID
from bots.texts import text
from tests.support.core import CoreBot, Visitor

CALM = {"audience": "self", "danger": "no", "topic": "money-mule", "region": "zeeland"}
URGENT = {"audience": "self", "danger": "yes", "topic": "money-mule", "region": "zeeland"}


async def waiting(core: CoreBot, answers: dict[str, str] = CALM) -> Visitor:
    visitor = await core.open_case()
    await visitor.answer_all(answers)
    return visitor


async def holder(core: CoreBot, visitor: Visitor) -> UserID | None:
    q = await core.stores.queue.workflow.by_number(visitor.number)
    assert q is not None
    return q.claimed_by


@pytest.mark.parametrize("core_config", [{"queue": {"max_chats_per_counsellor": 1, "reminder_minutes": 30}}])
async def test_at_capacity_no_claim_no_thumbs_up_no_next_and_after_the_close_next_takes_the_most_urgent(
    core: CoreBot,
) -> None:
    anna = await core.add_staff("anna")
    first, calm = await waiting(core), await waiting(core)
    assert await core.command(core.queue_room, anna, f"!claim {first.number}") == text(
        "nl", "queue.staff.claimed", number=first.number
    )
    full = text("nl", "counsellors.refused.at_capacity", number=calm.number, who="", chats="1", capacity="1")
    assert await core.command(core.queue_room, anna, f"!claim {calm.number}") == full
    await core.react(core.queue_room, anna, core.card(calm.number).event_id)
    assert full in core.replies(core.queue_room, core.card(calm.number).event_id)
    # !next takes a chat for the one asking: only where staff alone read the answer.
    assert await core.command(first.room_id, anna, "!next") == text("nl", "commands.only_in_staff_room")
    nothing = text("nl", "counsellors.refused.at_capacity", number="", who="", chats="1", capacity="1")
    assert await core.command(core.queue_room, anna, "!next") == nothing
    assert await holder(core, calm) is None

    # An urgent chat arrives after the calm one; once Anna closes hers, !next takes it first.
    urgent = await waiting(core, URGENT)
    await core.command(first.room_id, anna, "!close helped debts")
    assert await core.command(core.queue_room, anna, "!next") == text("nl", "queue.staff.claimed", number=urgent.number)
    assert await holder(core, urgent) == anna and await holder(core, calm) is None
    # Her own higher limit lets her take the calm one too.
    assert await core.command(core.queue_room, anna, "!capacity 2") == text(
        "nl", "shift.capacity_set", capacity=2, chats=1
    )
    assert await core.command(core.queue_room, anna, "!next") == text("nl", "queue.staff.claimed", number=calm.number)
    assert await core.command(core.queue_room, anna, "!next") == text(
        "nl", "counsellors.refused.at_capacity", number="", who="", chats="2", capacity="2"
    )
    assert await core.command(core.queue_room, anna, "!capacity 11") == text(
        "nl", "shift.capacity_bad", value="11", most="10"
    )


async def test_next_with_nobody_waiting_says_so(core: CoreBot) -> None:
    anna = await core.add_staff("anna")
    assert await core.command(core.queue_room, anna, "!next") == text("nl", "queue.staff.nothing_waiting")


async def test_on_a_break_no_reminder_mentions_them_no_claim_and_the_queue_shows_it(core: CoreBot) -> None:
    anna, bram = await core.add_staff("anna"), await core.add_staff("bram")
    assert await core.command(core.queue_room, anna, "!pauze") == text("nl", "shift.paused", chats=0)
    assert await core.command(core.queue_room, anna, "!pause") == text("nl", "shift.already_on_break")
    visitor = await waiting(core)
    core.clock.advance(30 * 60 + 1)
    await core.settle()
    (ping,) = core.reminders(visitor.number)
    assert ping["m.mentions"] == {"user_ids": [bram]} and bram in ping["body"] and anna not in ping["body"]
    assert await core.command(core.queue_room, anna, f"!claim {visitor.number}") == text(
        "nl", "counsellors.refused.on_break", number=visitor.number, who=""
    )
    listing = await core.command(core.queue_room, bram, "!queue")
    assert listing is not None
    assert text("nl", "counsellors.roster.break", user=anna, chats=0, capacity=3) in listing.splitlines()
    assert text("nl", "counsellors.roster.available", user=bram, chats=0, capacity=3) in listing.splitlines()
    # Bram takes it; he shows busy. A chat cannot be handed to someone on a break.
    await core.command(core.queue_room, bram, f"!claim {visitor.number}")
    listing = await core.command(core.queue_room, bram, "!queue")
    assert listing is not None
    assert text("nl", "counsellors.roster.busy", user=bram, chats=1, capacity=3) in listing.splitlines()
    assert await core.command(core.queue_room, bram, f"!transfer {visitor.number} {anna}") == text(
        "nl", "counsellors.refused.on_break", number=visitor.number, who=anna
    )
    # Back after 50 minutes: the break is counted by its length only, and she may claim again.
    core.clock.advance(20 * 60 - 1)
    assert await core.command(core.queue_room, anna, "!verder") == text("nl", "shift.resumed", minutes=50)
    assert await core.command(core.queue_room, anna, "!resume") == text("nl", "shift.not_on_break")
    counts = {(c.measure, c.dimension): c.count for c in await core.stores.stats.between("2000-01-01", "2999-12-31")}
    assert counts[("breaks", "total")] == 1 and counts[("breaks", "minutes:30-60")] == 1
    assert counts[("break_minutes", "total")] == 50


async def test_an_urgent_chat_nobody_may_take_pings_who_works_never_who_is_on_a_break(core: CoreBot) -> None:
    anna, bram = await core.add_staff("anna"), await core.add_staff("bram")
    await core.command(core.queue_room, anna, "!capacity 1")
    mine = await waiting(core)
    await core.command(core.queue_room, anna, f"!claim {mine.number}")
    await core.command(core.queue_room, bram, "!pause")
    urgent = await waiting(core, URGENT)
    core.clock.advance(core.config.queue.urgent_reminder_minutes * 60 + 1)
    await core.settle()
    (ping,) = core.reminders(urgent.number)
    assert ping["m.mentions"] == {"user_ids": [anna]}, "full, but not on a break: she may end a chat for it"
    assert "room" not in ping["m.mentions"]


async def test_with_everyone_on_a_break_waiting_visitors_hear_nobody_is_there_and_keep_their_place(
    core: CoreBot,
) -> None:
    anna = await core.add_staff("anna")
    visitor = await waiting(core)
    assert visitor.last().content["nl.keerpunt.queue"]["position"] == 1
    await core.command(core.queue_room, anna, "!pause")
    nobody = text("nl", "queue.visitor.nobody_there", portal=core.config.portal.public_url)
    assert [s.body for s in visitor.heard()].count(nobody) == 1
    assert visitor.last().kind == "queue.nobody_there"
    # A visitor finishing the questions now hears no place nobody can keep.
    core.clock.advance(60)
    later = await waiting(core)
    assert "nl.keerpunt.queue" not in later.heard()[-2].content and later.last().body == nobody
    await core.command(core.queue_room, anna, "!verder")
    assert later.last().content["nl.keerpunt.queue"]["position"] == 2
    assert [s.body for s in visitor.heard()].count(nobody) == 1


async def test_the_staff_space_shows_counts_never_names(core: CoreBot) -> None:
    anna, bram = await core.add_staff("anna"), await core.add_staff("bram")
    await core.command(core.queue_room, bram, "!pause")
    visitor = await waiting(core)
    await core.command(core.queue_room, anna, f"!claim {visitor.number}")
    topic = core.matrix.state[core.bot.parts.rooms["space"]][("m.room.topic", "")]["topic"]
    assert topic == text("nl", "counsellors.space_topic", available=0, busy=1, **{"break": 1})
    assert anna not in topic and bram not in topic


async def test_help_lists_the_shift_commands_with_their_dutch_names(core: CoreBot) -> None:
    anna = await core.add_staff("anna")
    listing = await core.command(core.queue_room, anna, "!help")
    assert listing is not None
    line = next(line for line in listing.splitlines() if line.startswith("!pause "))
    assert "!pauze" in line
    assert any(line.startswith("!next ") for line in listing.splitlines())
    assert any(line.startswith("!capacity [chats]") for line in listing.splitlines())
