"""The anonymous return code, bots side (docs/return-code.md): dormant, return, wrong words,
expiry, a code that belongs to one case only (SECURITY.md H.38), a return that waits for the
new device, the bots' part of the secret-storage key. Synapse's part (lock, password,
dehydrated device, the login limit) is in tests/e2e/bots/test_return_code.py."""

from __future__ import annotations

import os
from typing import Any

import pytest

from bots.returning.codes import CodeRefused, ReturnCodes
from bots.returning.dormant import DormantCases
from bots.sessions.domain import SessionManager
from bots.sessions.retention import RetentionTask
from bots.texts import catalogue, text
from tests.support.core import CoreBot, Visitor
from tests.support.database import KEPT, rows

CALM = {"audience": "self", "danger": "no", "topic": "debts", "region": "zeeland"}
DAY = 86_400


@pytest.fixture
def core_config() -> dict[str, Any]:
    return {"return_code": {"enabled": True, "valid_days": 14, "max_wrong": 3}, "statistics": {"min_cell": 1}}


class Code:
    """What the widget derives from a code and a second word (random stand-ins here)."""

    def __init__(self) -> None:
        self.lookup, self.verifier, self.login = os.urandom(32), os.urandom(32), "login-" + os.urandom(8).hex()


def codes(core: CoreBot) -> ReturnCodes:
    return core.bot.service(ReturnCodes)


def dormant(core: CoreBot) -> DormantCases:
    return core.bot.service(DormantCases)


async def with_code(core: CoreBot, visitor: Visitor) -> Code:
    code = Code()
    await codes(core).register(visitor.token, code.lookup, code.verifier, code.login)
    core.matrix.dehydrated[visitor.user_id] = "DEHYDRATED"
    return code


async def claimed(core: CoreBot) -> tuple[str, Visitor]:
    anna = await core.add_staff("anna")
    visitor = await core.open_case()
    await visitor.answer_all(CALM)
    await core.command(core.queue_room, anna, f"!claim {visitor.number}")
    await core.settle()
    return anna, visitor


async def test_ending_with_a_code_makes_the_case_dormant_not_erased(core: CoreBot) -> None:
    _, visitor = await claimed(core)
    code = await with_code(core, visitor)
    assert core.matrix.passwords[visitor.user_id] == code.login
    await visitor.end("ended")

    case = await core.case(visitor)
    assert case.state == "dormant" and case.erased_at is None
    assert visitor.user_id not in core.matrix.deactivated
    assert visitor.user_id in core.matrix.locked
    assert core.matrix.deleted_devices[visitor.user_id] == ["WIDGET"]  # the dehydrated one stays
    assert "terugkomcode" in core.card_now(visitor.number)
    # Days later, past every timer: nothing closed, erased or purged it.
    core.clock.advance(13 * DAY)
    await core.settle()
    assert await core.bot.service(RetentionTask).run_once() == 0
    assert (await core.case(visitor)).state == "dormant"


async def test_returning_reopens_the_case_with_its_counsellor_and_uses_the_code_up(core: CoreBot) -> None:
    anna, visitor = await claimed(core)
    code = await with_code(core, visitor)
    await visitor.end("ended")
    core.clock.advance(3 * DAY + 60)

    back = await codes(core).come_back(code.lookup, code.verifier)
    assert back is not None and back.user_id == visitor.user_id and back.room_id == visitor.room_id
    assert back.days == 3
    assert visitor.user_id not in core.matrix.locked
    assert core.trust.expected == [visitor.user_id]  # the bots wait for the new device before writing
    core.bot.parts.wakeups.changed()
    await core.settle()
    assert (await core.case(visitor)).state == "open"
    q = await core.stores.queue.workflow.get((await core.case(visitor)).id)
    assert q is not None and q.stage == "claimed" and q.claimed_by == anna and q.departure is None
    assert any("3 dagen teruggekomen" in body for body in core.thread(visitor.number))
    # The widget signs in with a new device: the code is used up, the same code again is
    # refused like an unknown one.
    core.matrix.signed_in[visitor.user_id] = ["NEWDEVICE"]
    assert await codes(core).come_back(code.lookup, code.verifier) is None
    assert await core.stores.codes.of_case((await core.case(visitor)).id) is None
    assert await codes(core).come_back(os.urandom(32), code.verifier) is None


async def test_a_counsellor_off_duty_gets_the_returned_case_back_through_the_queue(core: CoreBot) -> None:
    anna, visitor = await claimed(core)
    code = await with_code(core, visitor)
    await visitor.end("ended")
    await core.stores.staff.set_duty(anna, False)
    assert await codes(core).come_back(code.lookup, code.verifier) is not None
    core.bot.parts.wakeups.changed()
    await core.settle()
    q = await core.stores.queue.workflow.get((await core.case(visitor)).id)
    assert q is not None and q.stage == "waiting" and q.claimed_by is None
    assert any("wachtrij" in body for body in core.thread(visitor.number))


async def test_three_wrong_words_erase_the_case_and_tell_the_counsellor(core: CoreBot) -> None:
    _, visitor = await claimed(core)
    code = await with_code(core, visitor)
    await visitor.end("ended")
    for _ in range(3):
        assert await codes(core).come_back(code.lookup, os.urandom(32)) is None
    await core.settle()
    case = await core.case(visitor)
    assert case.state == "closed" and case.close_reason == "code_wrong" and case.erased_at is not None
    assert visitor.user_id in core.matrix.deactivated
    assert any("verkeerd woord" in body for body in core.thread(visitor.number))
    assert await codes(core).come_back(code.lookup, code.verifier) is None  # dead now


async def test_an_expired_code_erases_the_case_and_the_purge_leaves_only_counts(core: CoreBot) -> None:
    _, visitor = await claimed(core)
    code = await with_code(core, visitor)
    await visitor.end("ended")
    core.clock.advance(14 * DAY + 60)
    assert await codes(core).come_back(code.lookup, code.verifier) is None  # expired: refused, ended
    assert await dormant(core).run_once() == 0  # already ended by the attempt
    case = await core.case(visitor)
    assert case.state == "closed" and case.close_reason == "code_expired"
    await core.settle()
    assert await core.bot.service(RetentionTask).run_once() == 1
    left = await rows(core.stores)
    for table, found in left.items():
        if table not in KEPT:
            assert found == [], f"{table} still holds rows of the expired case: {found}"
    counted = {(r["measure"], r["dimension"]) for r in left["stat_count"]}
    assert {("return_codes", "total"), ("return_codes", "dormant"), ("close_reasons", "code_expired")} <= counted


async def test_the_expiry_sweep_ends_a_dormant_case_nobody_came_back_to(core: CoreBot) -> None:
    _, visitor = await claimed(core)
    await with_code(core, visitor)
    await visitor.end("ended")
    core.clock.advance(14 * DAY + 60)
    assert await dormant(core).run_once() == 1
    assert (await core.case(visitor)).close_reason == "code_expired"
    await core.settle()
    assert any("verlopen" in body for body in core.thread(visitor.number))


async def test_returns_are_counted_with_the_days_away(core: CoreBot) -> None:
    _, visitor = await claimed(core)
    code = await with_code(core, visitor)
    await visitor.end("ended")
    core.clock.advance(5 * DAY)
    assert await codes(core).come_back(code.lookup, code.verifier) is not None
    core.bot.parts.wakeups.changed()
    await core.settle()
    await core.command(visitor.room_id, "@anna:localhost", "!close helped")
    core.clock.advance(DAY)
    await core.settle()
    counted = {(r["measure"], r["dimension"]) for r in (await rows(core.stores))["stat_count"]}
    assert {("return_codes", "returned"), ("return_codes", "days:3-7")} <= counted


async def test_without_a_code_ending_erases_as_before(core: CoreBot) -> None:
    _, visitor = await claimed(core)
    await visitor.end("ended")
    case = await core.case(visitor)
    assert case.state == "closed" and case.erased_at is not None


# --- a code belongs to its own case (review N2, SECURITY.md H.38) -------------------------------


async def test_a_case_that_registers_another_cases_code_is_refused_and_that_code_keeps_working(core: CoreBot) -> None:
    _, victim = await claimed(core)
    code = await with_code(core, victim)
    await victim.end("ended")
    victim_case = await core.case(victim)
    before = await core.stores.codes.of_case(victim_case.id)
    # Someone who read the four words starts a chat of their own and registers them (any word).
    intruder = await core.open_case()
    with pytest.raises(CodeRefused):
        await codes(core).register(intruder.token, code.lookup, os.urandom(32), "other-login")
    assert await core.stores.codes.of_case((await core.case(intruder)).id) is None
    assert await core.stores.codes.of_case(victim_case.id) == before  # row, expiry, count untouched
    assert core.matrix.passwords[victim.user_id] == code.login
    # The intruder's chat ends as any chat without a code; the victim still comes back.
    await intruder.end("ended")
    assert (await core.case(intruder)).state == "closed"
    core.clock.advance(2 * DAY)
    back = await codes(core).come_back(code.lookup, code.verifier)
    assert back is not None and back.user_id == victim.user_id


async def test_a_dormant_case_ends_at_its_own_expiry_even_when_its_code_row_is_gone(core: CoreBot) -> None:
    _, visitor = await claimed(core)
    await with_code(core, visitor)
    await visitor.end("ended")
    case = await core.case(visitor)
    await core.stores.codes.forget(case.id)  # however it went: no row keeps the case alive
    core.clock.advance(13 * DAY)
    assert await dormant(core).run_once() == 0
    core.clock.advance(DAY + 60)
    assert await dormant(core).run_once() == 1
    ended = await core.case(visitor)
    assert ended.state == "closed" and ended.close_reason == "code_expired" and ended.erased_at is not None
    await core.settle()
    assert await core.bot.service(RetentionTask).run_once() == 1
    assert await core.stores.cases.get(case.id) is None


async def test_a_code_that_vanishes_while_the_chat_ends_leaves_the_case_closed_not_dormant(
    core: CoreBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check that the case has a code and the write that keeps the case are one transaction:
    a change in between (here: the row goes while Synapse is asked for the dehydrated device)
    closes the case as any end without a code, instead of a dormant case without a code."""
    _, visitor = await claimed(core)
    await with_code(core, visitor)
    case_id = (await core.case(visitor)).id
    asked = core.matrix.dehydrated_device

    async def meanwhile(token: str) -> str | None:
        await core.stores.codes.forget(case_id)
        return await asked(token)

    monkeypatch.setattr(core.matrix, "dehydrated_device", meanwhile)
    await visitor.end("ended")
    case = await core.case(visitor)
    assert case.state == "closed" and case.close_reason == "ended" and case.erased_at is not None


# --- a return survives a failed login (review N3) -----------------------------------------------


async def test_until_the_new_device_signs_in_the_same_code_and_word_bring_the_visitor_back_again(
    core: CoreBot,
) -> None:
    _, visitor = await claimed(core)
    code = await with_code(core, visitor)
    await visitor.end("ended")
    core.clock.advance(2 * DAY)
    first = await codes(core).come_back(code.lookup, code.verifier)
    assert first is not None
    # Synapse refused the widget's login (its rate limit, a network error): no device came.
    core.clock.advance(600)
    again = await codes(core).come_back(code.lookup, code.verifier)
    assert again == first
    core.bot.parts.wakeups.changed()
    await core.settle()
    case = await core.case(visitor)
    returns = [e for e in await core.stores.case_log.of_case(case.id) if e.kind == "returned"]
    assert len(returns) == 1  # one return, counted once
    assert sum("teruggekomen" in body for body in core.thread(visitor.number)) == 1
    # A wrong word meanwhile is still counted, and the sweep keeps a code that waits.
    assert await codes(core).come_back(code.lookup, os.urandom(32)) is None
    assert await dormant(core).run_once() == 0
    assert await core.stores.codes.of_case(case.id) is not None
    # The device signs in: the sweep uses the code up.
    core.matrix.signed_in[visitor.user_id] = ["NEWDEVICE"]
    await dormant(core).run_once()
    assert await core.stores.codes.of_case(case.id) is None
    assert await codes(core).come_back(code.lookup, code.verifier) is None


async def test_a_new_code_after_a_return_replaces_the_old_one(core: CoreBot) -> None:
    _, visitor = await claimed(core)
    old = await with_code(core, visitor)
    await visitor.end("ended")
    back = await codes(core).come_back(old.lookup, old.verifier)
    assert back is not None
    token = core.matrix.new_id("token")
    core.matrix._tokens[token] = visitor.user_id  # the returning device's token
    new = Code()
    await codes(core).register(token, new.lookup, new.verifier, new.login)
    assert await codes(core).come_back(old.lookup, old.verifier) is None
    row = await core.stores.codes.of_case((await core.case(visitor)).id)
    assert row is not None and row.returned_at is None


async def test_a_visitor_who_used_a_code_and_lost_the_new_one_ends_as_without_a_code(core: CoreBot) -> None:
    """After a return whose new code failed, the old code waits for the device only: ending
    the chat does not keep the case dormant on a code the visitor was told is gone."""
    _, visitor = await claimed(core)
    code = await with_code(core, visitor)
    await visitor.end("ended")
    assert await codes(core).come_back(code.lookup, code.verifier) is not None
    token = core.matrix.new_id("token")
    core.matrix._tokens[token] = visitor.user_id
    core.matrix.signed_in[visitor.user_id] = ["NEWDEVICE"]
    await core.bot.service(SessionManager).end(token, "ended")
    case = await core.case(visitor)
    assert case.state == "closed" and case.erased_at is not None


# --- the bots' part of the secret-storage key (review N9) ---------------------------------------


async def test_the_storage_key_part_comes_with_the_code_and_with_a_right_return_only(core: CoreBot) -> None:
    _, visitor = await claimed(core)
    code = Code()
    part = await codes(core).register(visitor.token, code.lookup, code.verifier, code.login)
    assert len(part) == 32
    core.matrix.dehydrated[visitor.user_id] = "DEHYDRATED"
    await visitor.end("ended")
    assert await codes(core).come_back(code.lookup, os.urandom(32)) is None  # a wrong word: nothing
    back = await codes(core).come_back(code.lookup, code.verifier)
    assert back is not None and back.key == part
    # Another word (another verifier) would get another part: one part per code and word.
    other = await codes(core).register(visitor.token, code.lookup, os.urandom(32), code.login)
    assert other != part


async def test_a_code_made_before_the_bots_took_part_returns_without_a_key_part(core: CoreBot) -> None:
    _, visitor = await claimed(core)
    code = await with_code(core, visitor)
    case_id = (await core.case(visitor)).id
    await core.stores.db.execute("UPDATE return_code SET keyed=false WHERE case_id=$1", case_id)
    await visitor.end("ended")
    back = await codes(core).come_back(code.lookup, code.verifier)
    assert back is not None and back.key is None


# --- quick exit with a code (review N6), and what the returning visitor reads -------------------


def staff_only_fragments() -> list[str]:
    """The fixed start of every staff-only sentence (queue.staff.*), in both languages."""
    fragments = []
    for language in ("nl", "en"):
        for key, template in catalogue(language).items():
            if key.startswith("queue.staff."):
                start = template.split("{{")[0].strip()
                if len(start) >= 12:
                    fragments.append(start)
    return fragments


async def test_a_quick_exit_with_a_code_tells_the_counsellor_in_a_hurry_and_the_case_room_holds_nothing_for_staff(
    core: CoreBot,
) -> None:
    anna, visitor = await claimed(core)
    code = await with_code(core, visitor)
    await core.command(core.queue_room, anna, f"!note {visitor.number} belt morgen terug")
    await visitor.end("quick_exit")
    case = await core.case(visitor)
    assert case.state == "dormant" and case.close_reason == "dormant_quick_exit"
    assert text("nl", "queue.card.departure.dormant_quick_exit") in core.card_now(visitor.number)
    assert text("nl", "queue.staff.visitor_dormant_quick_exit") in core.thread(visitor.number)
    # The visitor comes back to the same counsellor.
    core.clock.advance(DAY)
    assert await codes(core).come_back(code.lookup, code.verifier) is not None
    core.bot.parts.wakeups.changed()
    await core.settle()
    q = await core.stores.queue.workflow.get(case.id)
    assert q is not None and q.stage == "claimed" and q.claimed_by == anna
    # Everything the bot wrote in the case room is for the visitor: it is their restored history.
    fragments = staff_only_fragments()
    for sent in core.sent(visitor.room_id):
        leaked = [f for f in fragments if f in sent.body]
        assert leaked == [], f"a staff-only text in the case room: {sent.body!r}"


async def test_ending_with_a_code_tells_the_counsellor_under_the_card_not_in_the_case_room(core: CoreBot) -> None:
    _, visitor = await claimed(core)
    await with_code(core, visitor)
    await visitor.end("ended")
    assert text("nl", "queue.staff.visitor_dormant") in core.thread(visitor.number)
    assert all(text("nl", "queue.staff.visitor_dormant") not in s.body for s in core.sent(visitor.room_id))
