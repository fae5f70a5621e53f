"""``!dismiss`` (bots/queue/dismiss.py): who may dismiss which chat, what the visitor and the card
get, and what is counted; the network's slower start is in tests/e2e/bots/test_challenge.py."""

from __future__ import annotations

import pytest

from bots.texts import text
from tests.support.core import CoreBot

# The close runs new SQL (a compare-and-set from any open stage): on PostgreSQL too.
pytestmark = pytest.mark.pg

CALM = {"audience": "self", "danger": "no", "topic": "money-mule", "region": "zeeland"}


async def test_a_waiting_chat_is_dismissed_with_a_neutral_text_for_the_visitor(core: CoreBot) -> None:
    anna = await core.add_staff("anna")
    visitor = await core.open_case()
    await visitor.answer_all(CALM)
    core.new()
    # Started without the session API, its network is not known: dismissed, not slowed.
    assert await core.command(core.queue_room, anna, f"!dismiss {visitor.number}") == text(
        "nl", "queue.staff.dismissed_unknown_network", number=visitor.number
    )
    told = [s for s in core.new(visitor.room_id) if s.kind == "queue.visitor.closed"]
    assert [s.body for s in told] == [text("nl", "queue.visitor.closed_dismissed")]
    case = await core.case(visitor)
    assert case.state == "closed" and case.close_reason == "dismissed"
    q = await core.stores.queue.workflow.get(case.id)
    assert q is not None and q.stage == "closed" and q.outcome == "dismissed"
    kinds = [e.kind for e in await core.stores.case_log.of_case(case.id)]
    assert kinds.count("dismissed") == 1 and kinds.count("case_closed") == 1
    # Closed is closed.
    assert await core.command(core.queue_room, anna, f"!dismiss {visitor.number}") == text(
        "nl", "queue.staff.closed_case", number=visitor.number
    )


async def test_only_the_counsellor_who_has_the_chat_dismisses_it(core: CoreBot) -> None:
    anna, bram = await core.add_staff("anna"), await core.add_staff("bram")
    visitor = await core.open_case()
    await visitor.answer_all(CALM)
    await core.command(core.queue_room, anna, f"!claim {visitor.number}")
    assert await core.command(core.queue_room, bram, f"!dismiss {visitor.number}") == text(
        "nl", "queue.staff.not_yours", number=visitor.number
    )
    assert (await core.case(visitor)).state == "open"
    await core.command(visitor.room_id, anna, "!wegsturen")  # the Dutch name, in the chat itself: that chat
    assert (await core.case(visitor)).close_reason == "dismissed"


async def test_a_chat_still_in_the_triage_can_be_dismissed(core: CoreBot) -> None:
    anna = await core.add_staff("anna")
    visitor = await core.open_case()
    await visitor.start()  # greeted: the first question is open
    await core.command(core.queue_room, anna, f"!dismiss {visitor.number}")
    assert (await core.case(visitor)).close_reason == "dismissed"
