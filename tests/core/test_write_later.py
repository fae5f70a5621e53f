"""Write now, answered later, bots side (docs/write-later.md): a session started while closed
runs the triage and says nobody reads it before the opening; leaving with a code makes the case
``waiting_async`` (after the live chats in the queue, urgent first), a counsellor claims and
answers it, the visitor comes back to read it, and one nobody answers ends after
``async.keep_days``, counted. Synapse's part and the widget are in the e2e and browser tests."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bots.db.case import Case
from bots.db.ops import OpsStore
from bots.returning.codes import ReturnCodes
from bots.returning.dormant import DormantCases
from bots.sessions.domain import SessionManager, VisitorNames
from bots.sessions.retention import RetentionTask
from bots.sessions.validation import StartRequest
from bots.stats.report import build
from bots.texts import text
from keerpunt.base.hours import OpeningHours
from tests.support.core import CoreBot, Visitor
from tests.support.database import KEPT, rows

ZONE = ZoneInfo("Europe/Amsterdam")
DAY = 86_400
CALM = {"audience": "self", "danger": "no", "topic": "debts", "region": "zeeland"}
LATER = {"return_code": {"enabled": True, "valid_days": 14, "max_wrong": 3}, "statistics": {"min_cell": 1}}
TIMERS = ("never_wrote", "silent_in_triage", "silent_in_queue", "idle_warning")


def closed_today() -> dict[str, Any]:
    """The chat closed all of today (the clock starts now), write-later on. Tomorrow too: the
    date is taken when the file is collected, and a run may cross midnight before the test."""
    today = datetime.now(ZONE).date()
    closed = [today.isoformat(), (today + timedelta(days=1)).isoformat()]
    return {
        **LATER,
        "async": {"enabled": True, "keep_days": 7, "answer_within_hours": 24},
        "hours": {"closed_dates": closed, "apply_in_dev": True},
        "lifecycle": {f"{timer}_minutes": 3000 for timer in TIMERS},
    }


def open_now(enabled: bool = True) -> dict[str, Any]:
    """Open day and night (dev), write-later on (or off)."""
    return {**LATER, "async": {"enabled": enabled, "keep_days": 7}}


class Code:
    def __init__(self) -> None:
        self.lookup, self.verifier, self.login = os.urandom(32), os.urandom(32), "login-" + os.urandom(8).hex()


def codes(core: CoreBot) -> ReturnCodes:
    return core.bot.service(ReturnCodes)


async def start_later(core: CoreBot, language: str = "nl") -> Visitor:
    """A session as the session API makes it for ``{"later": true}`` while the chat is closed."""
    names = VisitorNames(text("nl", "visitor.display_name"), text("nl", "visitor.device_name"))
    new = await core.bot.service(SessionManager).start(StartRequest(language, "widget", later=True), names)  # type: ignore[arg-type]
    core.matrix._member(new.room_id, new.user_id, "join")
    return Visitor(core, new.user_id, new.room_id, new.case_number, new.access_token, language)


async def leave_message(core: CoreBot, visitor: Visitor, lines: tuple[str, ...] = ("Hallo", "Ik zit vast")) -> Code:
    """The visitor writes, makes a code and leaves it to be answered later."""
    for line in lines:
        await visitor.say(line)
    code = Code()
    await codes(core).register(visitor.token, code.lookup, code.verifier, code.login)
    core.matrix.dehydrated[visitor.user_id] = "DEHYDRATED"
    await visitor.end("later")
    return code


async def counted(core: CoreBot) -> set[tuple[str, str]]:
    await core.settle()
    return {(r["measure"], r["dimension"]) for r in (await rows(core.stores))["stat_count"]}


async def stage(core: CoreBot, visitor: Visitor) -> str:
    q = await core.stores.queue.workflow.get((await core.case(visitor)).id)
    assert q is not None
    return q.stage


@pytest.mark.parametrize("core_config", [closed_today()])
async def test_while_closed_a_visitor_answers_the_triage_leaves_a_message_and_it_waits_async(core: CoreBot) -> None:
    visitor = await start_later(core)
    await visitor.start()
    greeting, lead, question = visitor.heard()[:3]
    assert [s.kind for s in visitor.heard()] == [greeting.kind, "queue.later_closed", question.kind], visitor.heard()
    assert greeting.body == text("nl", "greeting.welcome")
    assert "112" in lead.body and "Niemand leest dit" in lead.body
    assert question.kind == "triage.question"  # the questions run as in a live chat
    for question_id, option in CALM.items():
        await visitor.press(question_id, option)
    assert visitor.last().body == text("nl", "triage.done_later")
    await leave_message(core, visitor)

    case = await core.case(visitor)
    assert case.state == "dormant" and case.close_reason == "async" and case.erased_at is None
    assert case.purge_after is not None and case.closed_at is not None
    assert case.purge_after - case.closed_at == 7 * DAY * 1000  # async.keep_days while unanswered
    assert visitor.user_id in core.matrix.locked and visitor.user_id not in core.matrix.deactivated
    assert await stage(core, visitor) == "waiting_async"
    card = core.card_now(visitor.number)
    assert "wacht (geschreven toen we dicht waren)" in card
    assert "Bericht geschreven:" in card and "Teruggekomen: nog niet" in card
    assert f"!claim {visitor.number}" in card
    later = await core.stores.later.get(case.id)
    assert later is not None and later.reason == "closed" and later.answer_due is not None
    # Promised by the next opening plus answer_within_hours: after now, and a day after an opening.
    assert later.answer_due > (later.left_at or 0) + 24 * 3600 * 1000 - 1
    assert {("async", "total"), ("async", "reason:closed")} <= await counted(core)


@pytest.mark.parametrize("core_config", [closed_today()])
async def test_counsellors_are_reminded_of_an_unclaimed_message_only_once_the_chat_is_open(core: CoreBot) -> None:
    anna = await core.add_staff("anna")
    visitor = await start_later(core)
    await visitor.answer_all(CALM)
    await leave_message(core, visitor)
    left = await core.stores.later.get((await core.case(visitor)).id)
    assert left is not None and left.left_at is not None and left.answer_due is not None
    opening = OpeningHours(core.config.hours).next_opening(datetime.fromtimestamp(core.clock.now(), tz=UTC))
    assert opening is not None
    every = core.config.queue.reminder_minutes * 60

    def reminders() -> list[str]:
        return [body for body in core.thread(visitor.number) if body.startswith("📬")]

    # Closed: a reminder interval passes, then all but a minute until the opening's first one.
    core.clock.advance(every + 1)
    await core.settle()
    core.clock.advance(opening.timestamp() + every - 60 - core.clock.now())
    await core.settle()
    assert reminders() == []
    core.clock.advance(61)
    await core.settle()
    await core.settle()
    now_ms = int(core.clock.now() * 1000)
    expected = text(
        "nl",
        "queue.staff.reminder_later",
        number=visitor.number,
        urgent=False,
        hours=(now_ms - left.left_at) // 3_600_000,
        hours_left=-(-(left.answer_due - now_ms) // 3_600_000),
        who=anna,
    )
    assert reminders() == [expected]
    assert "beloofden een antwoord binnen 24 uur" in expected and f"!claim {visitor.number}" in expected
    core.clock.advance(every + 1)  # open: reminded again each interval
    await core.settle()
    assert len(reminders()) == 2
    await core.command(core.queue_room, anna, f"!claim {visitor.number}")
    core.clock.advance(3 * every)
    await core.settle()
    assert len(reminders()) == 2  # claimed: no more


@pytest.mark.parametrize("core_config", [closed_today()])
async def test_in_danger_now_while_closed_shows_112_at_once_and_says_nobody_reads_it_yet(core: CoreBot) -> None:
    visitor = await start_later(core)
    await visitor.start()
    await visitor.press("audience", "self")
    await visitor.press("danger", "yes")
    urgent = next(s for s in visitor.heard() if s.kind == "triage.urgent")
    assert "112" in urgent.body and "Niemand leest je bericht voordat we weer open zijn" in urgent.body
    assert urgent.body != text("nl", "triage.urgent")  # not "we help you as soon as we can"


@pytest.mark.parametrize("core_config", [closed_today()])
async def test_a_counsellor_claims_and_answers_it_and_it_then_lasts_as_long_as_its_code(core: CoreBot) -> None:
    anna = await core.add_staff("anna")
    visitor = await start_later(core)
    await visitor.answer_all(CALM)
    await leave_message(core, visitor)
    left = await core.stores.later.get((await core.case(visitor)).id)
    assert left is not None and left.left_at is not None
    ops = await OpsStore(core.db).counts()  # what the metrics show an operator
    assert (ops.later, ops.oldest_later_since, ops.waiting) == (1, left.left_at, 0)
    core.clock.advance(3 * 3600)  # the opening, say
    await core.command(core.queue_room, anna, f"!claim {visitor.number}")
    await core.settle()
    assert await stage(core, visitor) == "claimed"
    ops = await OpsStore(core.db).counts()
    assert (ops.later, ops.oldest_later_since) == (0, None)
    assert any(s.kind == "queue.visitor.claimed_later" for s in visitor.heard())
    await core.say(visitor.room_id, anna, "!note not an answer")
    assert (await core.stores.later.get((await core.case(visitor)).id)).answered_at is None  # type: ignore[union-attr]
    await core.say(visitor.room_id, anna, "Dank je voor je bericht. Ik help je graag.")
    case = await core.case(visitor)
    code = await core.stores.codes.of_case(case.id)
    assert code is not None and case.purge_after == code.expires_at  # the code's expiry now
    later = await core.stores.later.get(case.id)
    assert later is not None and later.answered_at is not None
    found = await counted(core)
    assert {("async", "answered"), ("async", "answered_in_time"), ("async", "answer_hours:1-4")} <= found
    # Past keep_days it does not end: answered, it follows the code.
    core.clock.advance(8 * DAY)
    assert await core.bot.service(DormantCases).run_once() == 0
    assert (await core.case(visitor)).state == "dormant"


@pytest.mark.parametrize("core_config", [closed_today()])
async def test_the_counsellor_who_joins_gets_what_the_visitor_wrote_once_and_no_triage_answers(core: CoreBot) -> None:
    anna = await core.add_staff("anna")
    visitor = await start_later(core)
    await visitor.answer_all(CALM)
    await leave_message(core, visitor, ("Hallo, het is nacht.", "Ik durf niet te bellen."))
    await core.command(core.queue_room, anna, f"!claim {visitor.number}")
    core.new(visitor.room_id)
    await core.join(visitor.room_id, anna, "Anna")
    relayed = [s for s in core.new(visitor.room_id) if s.kind == "queue.relay"]
    assert len(relayed) == 1
    body = relayed[0].body
    assert body.startswith("💬 Dit schreef de bezoeker voordat je er was:")
    assert body.index("Hallo, het is nacht.") < body.index("Ik durf niet te bellen.")
    assert "debts" not in body and "zeeland" not in body  # the triage answers are on the card
    assert text("nl", "queue.visitor.relay_note") not in body  # the visitor reads the staff language
    # Another join event of the holder (a new display name) relays nothing new; nor does someone
    # joining who does not hold the case.
    await core.join(visitor.room_id, anna, "Anna B.")
    await core.join(visitor.room_id, "@bram:localhost", "Bram")
    assert [s for s in core.new(visitor.room_id) if s.kind == "queue.relay"] == []


@pytest.mark.parametrize("core_config", [closed_today()])
async def test_a_visitor_of_another_language_reads_in_it_why_their_lines_come_back(core: CoreBot) -> None:
    anna = await core.add_staff("anna")
    visitor = await start_later(core, "pl")
    await visitor.answer_all(CALM)
    await leave_message(core, visitor, ("Dzień dobry, jest noc.",))
    await core.command(core.queue_room, anna, f"!claim {visitor.number}")
    core.new(visitor.room_id)
    await core.join(visitor.room_id, anna, "Anna")
    [relayed] = [s for s in core.new(visitor.room_id) if s.kind == "queue.relay"]
    assert relayed.body.startswith("💬 Dit schreef de bezoeker voordat je er was:")  # to the counsellor
    assert "Dzień dobry, jest noc." in relayed.body
    assert relayed.body.endswith(text("pl", "queue.visitor.relay_note"))
    assert "konsultant" in text("pl", "queue.visitor.relay_note")


@pytest.mark.parametrize("core_config", [closed_today()])
async def test_the_visitor_returns_to_read_the_answer_and_the_counsellor_who_answered_gets_it(core: CoreBot) -> None:
    anna = await core.add_staff("anna")
    visitor = await start_later(core)
    await visitor.answer_all(CALM)
    code = await leave_message(core, visitor)
    await core.command(core.queue_room, anna, f"!claim {visitor.number}")
    await core.say(visitor.room_id, anna, "Hier is mijn antwoord.")
    core.clock.advance(DAY)
    back = await codes(core).come_back(code.lookup, code.verifier)
    assert back is not None and back.room_id == visitor.room_id
    core.bot.parts.wakeups.changed()
    await core.settle()
    case = await core.case(visitor)
    assert case.state == "open"
    q = await core.stores.queue.workflow.get(case.id)
    assert q is not None and q.stage == "claimed" and q.claimed_by == anna and q.departure is None
    assert "Teruggekomen: ja" in core.card_now(visitor.number)
    assert {("async", "returned"), ("async", "returned_to_read")} <= await counted(core)
    # Read, written again and left again with the new code (the rotation): a message for later
    # again, with its counsellor, who is told under the card.
    await visitor.say("Dank je. Nog een vraag.")
    again = Code()
    await codes(core).register(visitor.token, again.lookup, again.verifier, again.login)
    await visitor.end("ended")
    case = await core.case(visitor)
    assert case.state == "dormant" and case.close_reason == "async"
    q = await core.stores.queue.workflow.get(case.id)
    assert q is not None and q.stage == "claimed" and q.claimed_by == anna and q.departure == "async"
    told = text("nl", "queue.staff.visitor_async").split(".")[0]
    assert any(told in body for body in core.thread(visitor.number))


@pytest.mark.parametrize("core_config", [closed_today()])
async def test_an_unanswered_message_ends_after_keep_days_and_leaves_only_counts(core: CoreBot) -> None:
    visitor = await start_later(core)
    await visitor.answer_all(CALM)
    await leave_message(core, visitor)
    core.clock.advance(7 * DAY - 60)
    assert await core.bot.service(DormantCases).run_once() == 0
    core.clock.advance(120)
    assert await core.bot.service(DormantCases).run_once() == 1
    case = await core.case(visitor)
    assert case.state == "closed" and case.close_reason == "async_unanswered" and case.erased_at is not None
    assert visitor.user_id in core.matrix.deactivated
    await core.settle()
    assert await stage(core, visitor) == "closed"
    assert await core.bot.service(RetentionTask).run_once() == 1
    left = await rows(core.stores)
    for table, found in left.items():
        if table not in KEPT:
            assert found == [], f"{table} still holds rows of the ended case: {found}"
    found = {(r["measure"], r["dimension"]) for r in left["stat_count"]}
    assert {("async", "total"), ("close_reasons", "async_unanswered")} <= found


@pytest.mark.parametrize("core_config", [open_now()])
async def test_after_a_long_wait_the_message_keeps_its_place_after_the_live_chats_urgent_first(core: CoreBot) -> None:
    anna = await core.add_staff("anna")
    calm_later = await core.open_case()
    await calm_later.answer_all(CALM)
    core.clock.advance(60)
    urgent_later = await core.open_case()
    await urgent_later.answer_all({**CALM, "danger": "yes"})
    core.clock.advance(60)
    live = await core.open_case()
    await live.answer_all(CALM)
    core.clock.advance(20 * 60)
    await leave_message(core, calm_later)
    await leave_message(core, urgent_later)

    case = await core.case(calm_later)
    later = await core.stores.later.get(case.id)
    assert later is not None and later.reason == "long_wait"
    assert "wacht (geschreven na lang wachten)" in core.card_now(calm_later.number)
    listing = await core.command(core.queue_room, anna, "!queue")
    assert listing is not None
    order = [line for line in listing.splitlines() if line[:1].isdigit()]
    assert [live.number in order[0], urgent_later.number in order[1], calm_later.number in order[2]] == [True] * 3
    assert "bericht voor later" in order[1] and "bericht voor later" not in order[0]
    # !next takes the live chat first, then the urgent message.
    await core.command(core.queue_room, anna, "!next")
    assert await stage(core, live) == "claimed"
    await core.stores.staff.set_capacity(anna, 3)
    await core.command(core.queue_room, anna, "!next")
    assert await stage(core, urgent_later) == "claimed"
    assert await stage(core, calm_later) == "waiting_async"


@pytest.mark.parametrize("core_config", [open_now(enabled=False)])
async def test_with_write_later_off_a_later_end_is_an_ordinary_dormant_case(core: CoreBot) -> None:
    visitor = await core.open_case()
    await visitor.answer_all(CALM)
    await leave_message(core, visitor)
    case: Case = await core.case(visitor)
    assert case.state == "dormant" and case.close_reason == "dormant"
    assert (await core.stores.later.get(case.id)).reason is None  # type: ignore[union-attr]
    assert await stage(core, visitor) == "closed"


@pytest.mark.parametrize("core_config", [closed_today()])
async def test_the_days_report_shows_messages_for_later_and_answer_times_exactly_at_min_cell_1(core: CoreBot) -> None:
    anna = await core.add_staff("anna")
    answered, late, unanswered = [await start_later(core) for _ in range(3)]
    for visitor in (answered, late, unanswered):
        await visitor.answer_all(CALM)
        await leave_message(core, visitor)
    await core.command(core.queue_room, anna, f"!claim {answered.number}")
    await core.say(answered.room_id, anna, "Een antwoord, snel.")
    core.clock.advance(3 * DAY)  # past the promise (next opening + 24 hours)
    await core.stores.staff.set_capacity(anna, 3)
    await core.command(core.queue_room, anna, f"!claim {late.number}")
    await core.say(late.room_id, anna, "Een antwoord, laat.")
    await core.settle()
    day = datetime.fromtimestamp(core.clock.now() - 3 * DAY, ZONE).date()
    counted = await core.stores.stats.between("2000-01-01", "2999-12-31")
    report = build(counted, day, day + timedelta(days=3), 1).as_json()["measures"]["async"]
    assert report["total"] == 3
    assert report["by"]["reason:closed"] == 3
    assert report["by"]["answered"] == 2
    assert (report["by"]["answered_in_time"], report["by"]["answered_late"]) == (1, 1)
    assert report["by"]["answer_hours:0-1"] == 1 and report["by"]["answer_hours:48+"] == 1


@pytest.mark.parametrize("core_config", [closed_today()])
async def test_a_new_counsellors_first_device_gets_the_cards_of_messages_for_later_again(core: CoreBot) -> None:
    visitor = await start_later(core)
    await visitor.answer_all(CALM)
    await leave_message(core, visitor)

    def cards() -> list[str]:
        return [
            s.event_id
            for s in core.sent(core.queue_room)
            if (s.content.get("nl.keerpunt.card") or {}).get("case") == visitor.number
            and "m.new_content" not in s.content
        ]

    before = cards()
    nina = await core.add_staff("nina")
    core.trust.devices[nina] = set()
    await core.app.hooks.identity_pinned(nina)
    core.trust.devices[nina] = {"NINAPHONE"}
    await core.bot.router.on_devices_changed([nina])
    await core.settle()
    after = cards()
    assert len(after) == len(before) + 1  # posted again, readable by her first device
    reposted = next(s for s in core.sent(core.queue_room) if s.event_id == after[-1])
    assert "wacht (geschreven toen we dicht waren)" in reposted.body


@pytest.mark.parametrize("core_config", [closed_today()])
async def test_a_message_for_later_is_taken_with_transfer_to_oneself_as_a_waiting_chat_is(core: CoreBot) -> None:
    anna = await core.add_staff("anna")
    bram = await core.add_staff("bram")
    visitor = await start_later(core)
    await visitor.answer_all(CALM)
    await leave_message(core, visitor)
    refused = await core.command(core.queue_room, anna, f"!transfer {visitor.number} {bram}")
    assert refused is not None and "!claim" in refused  # nobody is handed it unannounced
    await core.command(core.queue_room, anna, f"!transfer {visitor.number} {anna}")
    q = await core.stores.queue.workflow.get((await core.case(visitor)).id)
    assert q is not None and q.stage == "claimed" and q.claimed_by == anna
