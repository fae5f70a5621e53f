"""A purged case leaves counts only (SECURITY.md G.30), and the counts are right."""

from __future__ import annotations

from typing import Any

import pytest

from bots.sessions.retention import RetentionTask
from bots.stats.report import build
from bots.stats.worker import StatsWorker
from tests.support.core import CoreBot
from tests.support.database import KEPT, rows

ANSWERS = {"audience": "close", "danger": "no", "topic": "money-mule", "region": "utrecht"}
DAY = 86_400


@pytest.fixture
def core_config() -> dict[str, Any]:
    return {"statistics": {"min_cell": 1}}


async def test_after_the_purge_only_counts_remain(core: CoreBot) -> None:
    anna = await core.add_staff("anna")
    visitor = await core.open_case()
    await visitor.answer_all(ANSWERS)
    note = await core.say(core.queue_room, anna, f"!note {visitor.number} vertelt over een neef")
    card = core.card(visitor.number)
    relates = {"rel_type": "m.thread", "event_id": card.event_id, "m.in_reply_to": {"event_id": card.event_id}}
    thread_reply = await core.say(
        core.queue_room, anna, "ik bel morgen even met de wijkagent", **{"m.relates_to": relates}
    )
    await core.command(core.queue_room, anna, f"!claim {visitor.number}")
    await core.join(visitor.room_id, anna, "Anna")
    await visitor.say("mijn neef laat me pakketjes rondbrengen")
    await core.command(visitor.room_id, anna, "!close helped")
    case = await core.case(visitor)
    identifying = {visitor.user_id, visitor.room_id, case.id, card.event_id, thread_reply, note}

    retention = core.bot.service(RetentionTask)
    core.clock.advance(core.config.retention.case_room_days * DAY - 60)
    await core.settle()
    assert await retention.run_once() == 0, "purged too early"
    core.clock.advance(120)
    await core.settle()
    assert await retention.run_once() == 1

    left = await rows(core.stores)
    for table, found in left.items():
        if table in KEPT:
            continue
        assert found == [], f"{table} still holds rows of the purged case: {found}"
    flat = repr({table: found for table, found in left.items()})
    for value in identifying:
        assert value not in flat, f"{value} survived the purge"
    assert "neef" not in flat and "wijkagent" not in flat
    # In Synapse: the room deleted, the staff-room traces redacted, the visitor forgotten.
    assert visitor.room_id not in core.matrix.rooms
    redacted = {event for _, event in core.matrix.redacted}
    assert {card.event_id, thread_reply, note} <= redacted
    under_card = {
        s.event_id
        for s in core.sent(core.queue_room)
        if "m.relates_to" in s.content and s.content.get("msgtype") != "m.notice"
    }
    assert under_card <= redacted, "a post under the card was left"
    assert core.matrix.forgotten_users == [visitor.user_id]
    assert core.matrix.forgotten_keys == [([visitor.room_id], [visitor.user_id])]
    # The counts stay, and are right.
    stats = {(r.measure, r.dimension): r.count for r in await core.stores.stats.between("2000-01-01", "2999-12-31")}
    assert stats[("sessions_started", "total")] == 1
    assert stats[("triage_answers", "topic=money-mule")] == 1
    assert stats[("queue", "picked_up")] == 1 and stats[("outcomes", "helped")] == 1
    assert stats[("close_reasons", "counsellor")] == 1


async def test_a_case_is_purged_only_once_all_its_events_are_counted(core: CoreBot) -> None:
    visitor = await core.open_case()
    await visitor.start()
    worker = core.bot.service(StatsWorker)
    await visitor.end("ended")
    # Counting is behind (the statistics worker has not run since the close).
    await core.stores.db.execute("UPDATE case_event SET counted = false")
    core.clock.advance(core.config.retention.case_room_days * DAY + 60)
    retention = core.bot.service(RetentionTask)
    assert await retention.run_once() == 0
    assert await worker.step() is False
    assert await retention.run_once() == 1


async def test_counts_under_the_minimum_are_suppressed_and_cannot_be_worked_out(core: CoreBot) -> None:
    for _ in range(7):
        visitor = await core.open_case()
        await visitor.answer_all(ANSWERS)
    visitor = await core.open_case("en")
    await visitor.answer_all({**ANSWERS, "topic": "debts"})
    await core.settle()
    counted = await core.stores.stats.between("2000-01-01", "2999-12-31")
    first = min(r.day for r in counted)
    from datetime import date

    exact = build(counted, date.fromisoformat(first), date.fromisoformat(first), 1).as_json()
    assert exact["measures"]["sessions_started"]["total"] == 8
    assert exact["measures"]["sessions_started"]["by"]["language:en"] == 1
    report = build(counted, date.fromisoformat(first), date.fromisoformat(first), 5).as_json()
    started = report["measures"]["sessions_started"]
    assert started["total"] == 8
    # language:en (1) is under 5; language:nl (7) would reveal it as 8 - 7, so it goes too.
    assert started["by"]["language:en"] == "<5" and started["by"]["language:nl"] == "<5"
    topics = report["measures"]["triage_answers"]["by"]
    assert topics["topic=money-mule"] == "<5" and topics["topic=debts"] == "<5"
    assert report["measures"]["urgent"]["total"] == 0
