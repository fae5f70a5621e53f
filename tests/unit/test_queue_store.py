"""The queue's stores on SQLite and PostgreSQL: compare-and-set transitions, timers, cards."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator

import pytest

from bots.db import Database, create_database
from bots.db.case import CaseStore
from bots.db.case_log import CaseLogStore
from bots.db.queue import QueueStores
from bots.db.queue.access import AccessStore
from bots.db.queue.cards import CardStore
from bots.db.queue.notices import NoticeStore
from bots.db.queue.triage import TriageStore
from bots.db.queue.workflow import WorkflowStore
from bots.db.staff_post import StaffPostStore
from bots.ids import EventID, RoomID, UserID
from keerpunt.base.config import load_config

# Store tests run on SQLite and, when KEERPUNT_TEST_POSTGRES_URL is set, on PostgreSQL.
pytestmark = pytest.mark.pg

ANNA, BRAM = UserID("@anna:k"), UserID("@bram:k")


@pytest.fixture
async def dbs(db: Database, db_url: str) -> AsyncIterator[tuple[Database, Database]]:
    """Two independent connections (pools) to one database, as two processes would have."""
    second = create_database(load_config(), db_url)
    await second.start()
    yield db, second
    await second.stop()


def _queue(db: Database) -> QueueStores:
    return QueueStores.over(db)


async def _waiting_case(db: Database, now: int = 1000) -> str:
    cases, queue = CaseStore(db), WorkflowStore(db)
    case_id = secrets.token_hex(8)
    await cases.insert(case_id, str(secrets.randbelow(10**7)), language="nl", entry="widget", campaign=None, now=now)
    await cases.open(case_id, RoomID(f"!{case_id}:k"), now)
    await queue.insert(case_id, now)
    assert await queue.enter_queue(case_id, now, now + 60_000) is not None
    return case_id


async def test_of_two_concurrent_claims_exactly_one_wins(dbs: tuple[Database, Database]) -> None:
    first, second = dbs
    for _ in range(5):
        case_id = await _waiting_case(first)
        results = await asyncio.gather(
            WorkflowStore(first).claim(case_id, ANNA, 2000), WorkflowStore(second).claim(case_id, BRAM, 2000)
        )
        winners = [r for r in results if r is not None]
        assert len(winners) == 1
        stored = await WorkflowStore(first).get(case_id)
        assert stored is not None and stored.stage == "claimed" and stored.claimed_by == winners[0].claimed_by
        progress = await TriageStore(first).get(case_id)
        assert progress is not None and progress.done
        assert [r for r in await NoticeStore(first).due_reminders(10**12) if r.case_id == case_id] == []


async def test_release_keeps_the_place_and_only_the_holder_can_release(dbs: tuple[Database, Database]) -> None:
    db, _ = dbs
    queue = WorkflowStore(db)
    case_id = await _waiting_case(db, now=1000)
    await queue.claim(case_id, ANNA, 5000)
    assert await queue.release(case_id, BRAM, 9000) is None
    released = await queue.release(case_id, ANNA, 9000)
    assert released is not None and released.stage == "waiting" and released.waiting_since == 1000
    assert released.claimed_by is None
    assert [r.due for r in await NoticeStore(db).due_reminders(9000) if r.case_id == case_id] == [9000]
    assert await queue.enter_queue(case_id, 99_000, 1) is None  # only from triage


async def test_transfer_and_close_check_the_holder(dbs: tuple[Database, Database]) -> None:
    db, _ = dbs
    queue = WorkflowStore(db)
    case_id = await _waiting_case(db)
    moved = await queue.transfer(case_id, "waiting", None, BRAM, 3000)
    assert moved is not None and moved.claimed_by == BRAM
    assert await queue.transfer(case_id, "waiting", None, ANNA, 3000) is None  # it changed meanwhile
    assert await queue.transfer(case_id, "claimed", BRAM, ANNA, 4000) is not None
    assert await queue.close(case_id, BRAM, "helped", 5000) is None
    closed = await queue.close(case_id, ANNA, "helped", 5000)
    assert closed is not None and closed.stage == "closed" and closed.outcome == "helped"
    assert await queue.recent_handling_ms(5) and (await queue.recent_handling_ms(1))[0] >= 1000


async def test_a_departure_is_recorded_once_and_takes_an_unclaimed_case_out(dbs: tuple[Database, Database]) -> None:
    db, _ = dbs
    queue = WorkflowStore(db)
    waiting, claimed = await _waiting_case(db), await _waiting_case(db)
    await queue.claim(claimed, ANNA, 2000)
    gone = await queue.depart(waiting, "quick_exit", 3000)
    assert gone is not None and gone.stage == "closed" and gone.departure == "quick_exit"
    assert await queue.depart(waiting, "left", 4000) is None
    stays = await queue.depart(claimed, "left", 3000)
    assert stays is not None and stays.stage == "claimed" and stays.departure == "left"


async def test_timers_fire_once_per_due_time(dbs: tuple[Database, Database]) -> None:
    first, second = dbs
    case_id = await _waiting_case(first, now=1000)
    due = [r for r in await NoticeStore(first).due_reminders(61_000) if r.case_id == case_id]
    assert len(due) == 1 and due[0].due == 61_000 and due[0].since == 1000
    runs = await asyncio.gather(
        NoticeStore(first).next_reminder(case_id, 61_000, 121_000),
        NoticeStore(second).next_reminder(case_id, 61_000, 121_000),
    )
    assert sorted(runs) == [False, True]
    assert not [r for r in await NoticeStore(first).due_reminders(61_000) if r.case_id == case_id]


async def test_an_urgent_reminder_only_ever_comes_sooner(dbs: tuple[Database, Database]) -> None:
    db, _ = dbs
    notices = NoticeStore(db)
    case_id = await _waiting_case(db, now=1000)  # due at 61_000
    await notices.remind_by(case_id, 90_000)
    assert [r.due for r in await notices.due_reminders(10**12) if r.case_id == case_id] == [61_000]
    await notices.remind_by(case_id, 31_000)
    assert [r.due for r in await notices.due_reminders(10**12) if r.case_id == case_id] == [31_000]


async def test_card_versions_and_posts_wait_for_the_card(dbs: tuple[Database, Database]) -> None:
    db, _ = dbs
    cards, posts = CardStore(db), StaffPostStore(db)
    case_id = await _waiting_case(db)
    card = await cards.get(case_id)
    assert card is not None and card.version == 1 and card.shown == 0
    assert case_id in {c.case_id for c in await cards.to_show()}
    await cards.enqueued(case_id, "txn1", 1)
    await cards.enqueued(case_id, "txn2", 1)  # a second card is never recorded
    card = await cards.get(case_id)
    assert card is not None and card.txn == "txn1"
    await cards.sent(case_id, EventID(f"$card{case_id}"))
    assert case_id not in {c.case_id for c in await cards.to_show()}
    assert await cards.case_of(EventID(f"$card{case_id}")) == case_id
    await WorkflowStore(db).claim(case_id, ANNA, 2000)
    assert case_id in {c.case_id for c in await cards.to_show()}
    await posts.add(case_id, "thread", {"body": "summary"}, 2000)
    (post,) = [p for p in await posts.waiting() if p.case_id == case_id]
    await posts.handed_over(post.seq, "txn3")
    assert [p for p in await posts.waiting() if p.case_id == case_id] == []
    await CaseLogStore(db).add(case_id, "claimed", 2000, ANNA)
    assert [(e.kind, e.actor) for e in await CaseLogStore(db).of_case(case_id)] == [("claimed", ANNA)]


async def test_a_place_is_told_once(dbs: tuple[Database, Database]) -> None:
    first, second = dbs
    case_id = await _waiting_case(first)
    told = await asyncio.gather(
        NoticeStore(first).notify_once(case_id, None, 2, 5000), NoticeStore(second).notify_once(case_id, None, 2, 5000)
    )
    assert sorted(told) == [False, True]
    assert await NoticeStore(first).notify_once(case_id, 2, 1, 6000)


async def test_access_and_the_space_link_are_applied_until_they_match_the_workflow(
    dbs: tuple[Database, Database],
) -> None:
    db, _ = dbs
    access = AccessStore(db)
    case_id = await _waiting_case(db)
    assert case_id not in {a.case_id for a in await access.to_apply()}  # nobody has it yet
    assert [(s.case_id, s.wanted) for s in await access.space_to_apply() if s.case_id == case_id] == [(case_id, True)]
    await access.space_applied(case_id, True)
    await WorkflowStore(db).claim(case_id, ANNA, 2000)
    assert [(a.claimed_by, a.room_counsellor) for a in await access.to_apply() if a.case_id == case_id] == [
        (ANNA, None)
    ]
    await access.applied(case_id, ANNA)
    assert case_id not in {a.case_id for a in await access.to_apply()}
    assert case_id not in {s.case_id for s in await access.space_to_apply()}


async def test_the_queue_row_and_answers_go_with_the_purge(dbs: tuple[Database, Database]) -> None:
    db, _ = dbs
    queue = _queue(db)
    case_id = await _waiting_case(db)
    await queue.triage.add_answer(case_id, "topic", "debts", 2000)
    assert await queue.triage.answers(case_id) == {"topic": "debts"}
    await queue.forget_case(case_id)
    assert await queue.workflow.get(case_id) is None and await queue.triage.answers(case_id) == {}
