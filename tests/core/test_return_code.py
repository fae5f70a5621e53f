"""The anonymous return code, bots side (docs/return-code.md): dormant, return, wrong words,
expiry. Synapse's part (lock, password, dehydrated device) is in tests/e2e/bots/test_return_code.py."""

from __future__ import annotations

import os
from typing import Any

import pytest

from bots.returning.codes import ReturnCodes
from bots.sessions.retention import RetentionTask
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
    # Used up: the same code again is refused like an unknown one.
    assert await codes(core).come_back(code.lookup, code.verifier) is None
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
    assert await codes(core).run_once() == 0  # already ended by the attempt
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
    assert await codes(core).run_once() == 1
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
