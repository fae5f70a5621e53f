"""The queue's table on SQLite and PostgreSQL: compare-and-set transitions, timers, cards."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator

import pytest

from bots.db import Database, create_database
from bots.db.case import CaseStore
from bots.db.case_log import CaseLogStore
from bots.db.queue_case import QueueStore
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


async def _waiting_case(db: Database, now: int = 1000) -> str:
    cases, queue = CaseStore(db), QueueStore(db)
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
            QueueStore(first).claim(case_id, ANNA, 2000), QueueStore(second).claim(case_id, BRAM, 2000)
        )
        winners = [r for r in results if r is not None]
        assert len(winners) == 1
        stored = await QueueStore(first).get(case_id)
        assert stored is not None and stored.stage == "claimed" and stored.claimed_by == winners[0].claimed_by
        assert stored.reminder_due is None and stored.triage_done


async def test_release_keeps_the_place_and_only_the_holder_can_release(dbs: tuple[Database, Database]) -> None:
    db, _ = dbs
    queue = QueueStore(db)
    case_id = await _waiting_case(db, now=1000)
    await queue.claim(case_id, ANNA, 5000)
    assert await queue.release(case_id, BRAM, 9000) is None
    released = await queue.release(case_id, ANNA, 9000)
    assert released is not None and released.stage == "waiting" and released.waiting_since == 1000
    assert released.claimed_by is None and released.reminder_due == 9000
    assert await queue.enter_queue(case_id, 99_000, 1) is None  # only from triage


async def test_transfer_and_close_check_the_holder(dbs: tuple[Database, Database]) -> None:
    db, _ = dbs
    queue = QueueStore(db)
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
    queue = QueueStore(db)
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
    due = [q for q in await QueueStore(first).due_reminders(61_000) if q.case_id == case_id]
    assert len(due) == 1 and due[0].reminder_due == 61_000
    runs = await asyncio.gather(
        QueueStore(first).next_reminder(case_id, 61_000, 121_000),
        QueueStore(second).next_reminder(case_id, 61_000, 121_000),
    )
    assert sorted(runs) == [False, True]
    assert not [q for q in await QueueStore(first).due_reminders(61_000) if q.case_id == case_id]


async def test_card_versions_and_posts_wait_for_the_card(dbs: tuple[Database, Database]) -> None:
    db, _ = dbs
    queue, posts = QueueStore(db), StaffPostStore(db)
    case_id = await _waiting_case(db)
    q = await queue.get(case_id)
    assert q is not None and q.card_version == 1 and q.card_shown == 0
    assert case_id in {c.case_id for c in await queue.cards_to_show()}
    await queue.card_enqueued(case_id, "txn1", 1)
    await queue.card_enqueued(case_id, "txn2", 1)  # a second card is never recorded
    q = await queue.get(case_id)
    assert q is not None and q.card_txn == "txn1"
    await queue.card_sent(case_id, EventID(f"$card{case_id}"))
    assert case_id not in {c.case_id for c in await queue.cards_to_show()}
    await queue.claim(case_id, ANNA, 2000)
    assert case_id in {c.case_id for c in await queue.cards_to_show()}
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
        QueueStore(first).notify_once(case_id, None, 2, 5000), QueueStore(second).notify_once(case_id, None, 2, 5000)
    )
    assert sorted(told) == [False, True]
    assert await QueueStore(first).notify_once(case_id, 2, 1, 6000)
