"""The wrap-up at ``!close`` (closed lists, counted per day) and the visitor's verdict (a one-time
ticket, answers counted per day and never with the case); after the purge only counts remain."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from bots.feedback.api import FeedbackApi
from bots.sessions.retention import RetentionTask
from bots.stats.report import build
from bots.visitors.feedback import FEEDBACK_KEY, ticket_hash
from bots.visitors.http import ApiError
from tests.support.core import CoreBot, Visitor
from tests.support.database import KEPT, rows

CALM = {"audience": "self", "danger": "no", "topic": "money-mule", "region": "zeeland"}
DAY = 86_400


@pytest.fixture
def core_config() -> dict[str, Any]:
    return {"statistics": {"min_cell": 1}, "queue": {"reminder_minutes": 30, "urgent_reminder_minutes": 5}}


async def claimed(core: CoreBot, counsellor: str) -> Visitor:
    visitor = await core.open_case()
    await visitor.answer_all(CALM)
    await core.command(core.queue_room, counsellor, f"!claim {visitor.number}")
    return visitor


def ticket_of(visitor: Visitor) -> dict[str, Any]:
    offers = [s.content[FEEDBACK_KEY] for s in visitor.heard() if FEEDBACK_KEY in s.content]
    assert len(offers) == 1, "one ticket per chat, in the message that a counsellor joins"
    offer: dict[str, Any] = offers[0]
    return offer


async def report(core: CoreBot) -> dict[str, Any]:
    await core.settle()
    counted = await core.stores.stats.between("2000-01-01", "2999-12-31")
    measures: dict[str, Any] = build(counted, date(2000, 1, 1), date(2999, 12, 31), 1).as_json()["measures"]
    return measures


async def test_a_wrap_up_inline_or_asked_for_afterwards_is_counted_from_the_closed_lists_only(core: CoreBot) -> None:
    anna = await core.add_staff("anna")
    one, two, three = await claimed(core, anna), await claimed(core, anna), await claimed(core, anna)
    # Inline, in any order; a word from no list is refused and nothing closes.
    refused = await core.command(one.room_id, anna, "!close helped debts pizza")
    assert refused is not None and "‘pizza’" in refused
    q = await core.stores.queue.workflow.by_number(one.number)
    assert q is not None and q.stage == "claimed"
    assert await core.command(one.room_id, anna, "!close referred police debts, money-mule") is None
    # Without it: asked for under the card, answered in the card's thread.
    asked = await core.command(two.room_id, anna, "!close helped")
    assert asked is not None and "!wrapup" in asked and "debts" in asked
    card = core.card(two.number)
    thread = {"rel_type": "m.thread", "event_id": card.event_id, "m.in_reply_to": {"event_id": card.event_id}}
    saved = await core.command(core.queue_room, anna, "!wrapup debts veilig-thuis", **{"m.relates_to": thread})
    assert saved == f"De wrap-up van chat {two.number} is opgeslagen."
    again = await core.command(core.queue_room, anna, "!wrapup online", **{"m.relates_to": thread})
    assert again == f"Chat {two.number} heeft al een wrap-up."
    await core.command(three.room_id, anna, "!close no-contact")
    assert await core.command(core.queue_room, anna, f"!wrapup {three.number} -") is not None

    measures = await report(core)
    assert measures["wrap_up_topics"] == {"total": 4, "by": {"debts": 2, "money-mule": 1, "none": 1}}
    assert measures["wrap_up_referrals"] == {
        "total": 3,
        "by": {"none": 1, "police": 1, "veilig-thuis": 1},
    }
    assert measures["concurrent_chats"] == {"total": 3, "by": {"chats:1": 1, "chats:2": 1, "chats:3": 1}}
    assert sum(measures["chats_per_hour"]["by"].values()) == 3


async def test_the_verdict_is_counted_once_with_its_ticket_and_never_with_the_case(core: CoreBot) -> None:
    anna = await core.add_staff("anna")
    visitor = await claimed(core, anna)
    offer = ticket_of(visitor)
    assert [q["id"] for q in offer["questions"]] == [q.id for q in core.config.feedback.questions]
    assert offer["questions"][0]["text"]["nl"] == core.config.feedback.questions[0].nl
    # What the bots keep of it: a hash and an hour; nothing of the case.
    (row,) = (await rows(core.stores))["feedback_ticket"]
    assert row["ticket_hash"] == ticket_hash(offer["ticket"]) and row["expires_at"] % 3_600_000 == 0
    case = await core.case(visitor)
    assert case.id not in repr(row) and visitor.room_id not in repr(row)

    # Released and claimed again: no second ticket.
    await core.command(visitor.room_id, anna, "!release")
    await core.command(core.queue_room, anna, f"!claim {visitor.number}")
    assert ticket_of(visitor) == offer
    await core.command(visitor.room_id, anna, "!close helped")

    api = core.bot.service(FeedbackApi)
    await api.count(offer["ticket"], {"helped": "yes", "again": "maybe"})
    with pytest.raises(ApiError) as used:
        await api.count(offer["ticket"], {"helped": "no"})
    assert used.value.status == 404
    skipped = await claimed(core, anna)
    await api.count(ticket_of(skipped)["ticket"], {})
    measures = await report(core)
    assert measures["feedback"] == {"total": 2, "by": {"again=maybe": 1, "helped=yes": 1}}
    assert (await rows(core.stores))["feedback_ticket"] == []


async def test_an_unused_ticket_expires_and_after_the_purge_only_counts_remain(core: CoreBot) -> None:
    anna = await core.add_staff("anna")
    visitor = await claimed(core, anna)
    ticket = ticket_of(visitor)["ticket"]
    await core.command(visitor.room_id, anna, "!close helped debts")
    case = await core.case(visitor)
    core.clock.advance(core.config.feedback.ticket_valid_hours * 3600 + 3600)
    await core.settle()
    with pytest.raises(ApiError):
        await core.bot.service(FeedbackApi).count(ticket, {"helped": "yes"})
    core.clock.advance(core.config.retention.case_room_days * DAY)
    await core.settle()
    assert await core.bot.service(RetentionTask).run_once() == 1
    left = await rows(core.stores)
    for table, found in left.items():
        if table not in KEPT:
            assert found == [], f"{table} still holds rows of the purged case: {found}"
    assert case.id not in repr(left) and "debts" in repr(left["stat_count"])
