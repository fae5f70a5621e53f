"""The bots' tables: exactly-once records, ordered outbox, case lifecycle, identity pins."""

from __future__ import annotations

import secrets

import pytest

from bots.db import Database, transaction
from bots.db.bot_state import BotStateStore
from bots.db.case import CaseStore, NumberTaken
from bots.db.handled_event import HandledEventStore
from bots.db.outbox import OutboxStore
from bots.db.pending_event import PendingEventStore
from bots.db.pinned_identity import PinnedIdentityStore
from bots.ids import EventID, RoomID, UserID

# Store tests run on SQLite and, when KEERPUNT_TEST_POSTGRES_URL is set, on PostgreSQL.
pytestmark = pytest.mark.pg


def _id(prefix: str) -> str:
    return f"{prefix}{secrets.token_hex(6)}"


async def _case(cases: CaseStore, number: str | None = None) -> tuple[str, str]:
    case_id, number = _id("case-"), number or str(secrets.randbelow(90000) + 10000)
    await cases.insert(case_id, number, language="nl", entry="widget", campaign=None, now=1)
    return case_id, number


async def test_a_handled_event_is_recorded_once(db: Database) -> None:
    handled = HandledEventStore(db)
    event, room = EventID(_id("$e")), RoomID(_id("!r"))
    assert await handled.record(event, room, "handled", 1)
    assert not await handled.record(event, room, "handled", 2)
    assert await handled.seen(event)
    assert [(r.event_id, r.handled_at) for r in await handled.in_room(room)] == [(event, 1)]


async def test_a_failed_transaction_records_nothing(db: Database) -> None:
    handled, outbox = HandledEventStore(db), OutboxStore(db)
    event, room = EventID(_id("$e")), RoomID(_id("!r"))
    with pytest.raises(RuntimeError):
        async with transaction(db):
            await handled.record(event, room, "handled", 1)
            await outbox.enqueue(room, "m.room.message", {"body": "x"}, 1)
            raise RuntimeError("crash")
    assert not await handled.seen(event)
    assert await outbox.in_room(room) == []


async def test_the_outbox_keeps_order_and_forgets_content_once_sent(db: Database) -> None:
    outbox = OutboxStore(db)
    room = RoomID(_id("!r"))
    txns = [await outbox.enqueue(room, "m.room.message", {"body": str(i)}, 1) for i in range(3)]
    assert len(set(txns)) == 3
    pending = [m for m in await outbox.pending(1000) if m.room_id == room]
    assert [m.txn_id for m in pending] == txns
    assert [m.content for m in pending] == [{"body": "0"}, {"body": "1"}, {"body": "2"}]
    await outbox.attempted(txns[0])
    await outbox.mark_sent(txns[0], EventID("$sent"), 5)
    sent = await outbox.get(txns[0])
    assert sent is not None and sent.state == "sent" and sent.content is None and sent.attempts == 1
    await outbox.drop_room(room)
    assert {m.state for m in await outbox.in_room(room)} == {"sent", "failed"}


async def test_case_numbers_are_unique_among_open_cases_only(db: Database) -> None:
    cases = CaseStore(db)
    number = str(secrets.randbelow(9000) + 90000)
    first, _ = await _case(cases, number)
    with pytest.raises(NumberTaken):
        await _case(cases, number)
    assert number in await cases.numbers_in_use()
    await cases.open(first, RoomID(_id("!r")), 2)
    assert await cases.close(first, "ended", 3, 10)
    assert number not in await cases.numbers_in_use()
    await _case(cases, number)  # free again once closed


async def test_a_case_is_greeted_and_closed_once(db: Database) -> None:
    cases = CaseStore(db)
    case_id, _ = await _case(cases)
    assert not await cases.mark_greeted(case_id, "nl", 1), "a case that is not open is not greeted"
    room = RoomID(_id("!r"))
    await cases.set_visitor(case_id, UserID(_id("@visitor-")))
    await cases.open(case_id, room, 2)
    assert await cases.mark_greeted(case_id, "en", 3)
    assert not await cases.mark_greeted(case_id, "nl", 4)
    case = await cases.by_room(room)
    assert case is not None and case.language == "en" and case.greeted_at == 3
    assert await cases.close(case_id, "quick_exit", 5, 100)
    assert not await cases.close(case_id, "ended", 6, 200)
    assert case_id in {c.id for c in await cases.closed_not_erased()}
    assert case_id not in {c.id for c in await cases.due_for_purge(99)}
    assert case_id in {c.id for c in await cases.due_for_purge(100)}
    await cases.mark_erased(case_id, 7)
    await cases.mark_purged(case_id, 101)
    assert case_id not in {c.id for c in await cases.due_for_purge(1000)}


async def test_only_creating_cases_can_be_deleted(db: Database) -> None:
    cases = CaseStore(db)
    creating, _ = await _case(cases)
    opened, _ = await _case(cases)
    await cases.open(opened, RoomID(_id("!r")), 1)
    await cases.delete_creating(creating)
    await cases.delete_creating(opened)
    assert await cases.get(creating) is None
    assert await cases.get(opened) is not None


async def test_the_first_master_key_seen_stays_pinned(db: Database) -> None:
    pins = PinnedIdentityStore(db)
    user = UserID(_id("@u"))
    assert await pins.pin(user, "first", 1) == ("first", True)
    assert await pins.pin(user, "second", 2) == ("first", False)


async def test_pending_events_and_bot_state(db: Database) -> None:
    pending, state = PendingEventStore(db), BotStateStore(db)
    event, room = EventID(_id("$e")), RoomID(_id("!r"))
    await pending.add(event, room, {"type": "m.room.encrypted"}, 1)
    await pending.add(event, room, {"type": "other"}, 2)
    (parked,) = [p for p in await pending.all() if p.event_id == event]
    assert parked.source == {"type": "m.room.encrypted"} and parked.first_seen == 1
    await pending.remove(event)
    assert event not in {p.event_id for p in await pending.all()}
    key = _id("k")
    assert await state.get(key) is None
    await state.put(key, "a")
    await state.put(key, "b")
    assert await state.get(key) == "b"
