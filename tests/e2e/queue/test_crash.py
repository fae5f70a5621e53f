"""SIGKILL mid-triage and mid-queue: triage goes on at the same question, the queue and its
cards are unchanged (no second card, no repeated question) and the reminder timer still fires."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bots.db import Database
from bots.db.outbox import OutboxStore
from bots.db.queue.triage import TriageStore
from bots.db.queue.workflow import WorkflowStore
from bots.db.system_room import SystemRoomStore
from bots.ids import RoomID
from bots.texts import text
from tests.support.bots import BotsProcess, open_database
from tests.support.matrix_clients import ClientFactory
from tests.support.staff import Event, Observer, add_counsellor
from tests.support.synapse import SynapseProcess
from tests.support.triage import answer_all, number_of, prompt_of, start_visitor

pytestmark = [pytest.mark.integration, pytest.mark.pg]

# Short enough to wait for, long enough to fall after both restarts.
REMINDER_MINUTES = 0.25
FIRST = {"audience": "self", "danger": "no", "topic": "forced-crime", "region": "groningen"}


@pytest.fixture
async def bots_process(synapse: SynapseProcess, tmp_path: Path, bots_database: str) -> AsyncIterator[BotsProcess]:
    extra = {"queue": {"reminder_minutes": REMINDER_MINUTES, "urgent_reminder_minutes": REMINDER_MINUTES}}
    proc = BotsProcess(synapse, tmp_path, bots_database, extra)
    await proc.start()
    yield proc
    proc.terminate()


@pytest.fixture
async def db(bots_process: BotsProcess) -> AsyncIterator[Database]:
    database = await open_database(bots_process.config)
    yield database
    await database.stop()


def _cards(observer: Observer, room: str, number: str) -> list[Event]:
    return [e for e in observer.messages(room) if e["content"].get("nl.keerpunt.card", {}).get("case") == number]


def _replies_to(event: Event, target: str) -> bool:
    return (event["content"].get("m.relates_to") or {}).get("m.in_reply_to", {}).get("event_id") == target


async def test_sigkill_mid_triage_and_mid_queue_loses_nothing_and_repeats_nothing(
    bots_process: BotsProcess, db: Database, clients: ClientFactory
) -> None:
    proc = bots_process
    bot = proc.config.bot_user_id
    counsellor = await add_counsellor(clients, proc.config, db)
    queue_room = await SystemRoomStore(db).get("queue")
    assert queue_room is not None
    first = await start_visitor(clients, proc.api, bot)
    await answer_all(first, FIRST)
    card = await counsellor.wait_for(lambda: counsellor.card(queue_room, first.number), what="the first card")

    second = await start_visitor(clients, proc.api, bot)
    # Kill 1, mid-turn: the answer to question 1 may or may not have been handled.
    seen = len(second.from_bot())
    await second.answer(number_of("audience", "close"))
    proc.kill()
    await proc.start()
    (question,) = await second.next_from_bot(seen)
    assert (prompt_of(question) or {}).get("id") == "danger"
    # Kill 2, idle, with the queue full: the visitor answers while the bot is down.
    proc.kill()
    await second.answer(number_of("danger", "no"))
    await proc.start()
    restarted = time.time()
    (question,) = await second.next_from_bot(seen + 1)
    assert (prompt_of(question) or {}).get("id") == "topic"

    # The reminder timer set before the kills fires after the restart.
    ping = await counsellor.wait_message(
        queue_room, bot, lambda e: _replies_to(e, card["event_id"]), within=60, what="the reminder"
    )
    assert ping["origin_server_ts"] / 1000 > restarted
    assert ping["content"]["body"].startswith("⏰ ") and first.number in ping["content"]["body"]

    seen += 2
    await second.answer(number_of("topic", "debts"))
    await second.next_from_bot(seen)
    await second.answer(number_of("region", "skip"))
    (done,) = await second.next_from_bot(seen + 1)
    assert done["content"]["nl.keerpunt.queue"]["position"] == 2
    await counsellor.wait_for(lambda: counsellor.card(queue_room, second.number), what="the second card")

    # Everything once: one card per case, each question once, answers as chosen, order kept.
    assert len(_cards(counsellor, queue_room, first.number)) == 1
    assert len(_cards(counsellor, queue_room, second.number)) == 1
    prompts = [p["id"] for p in (prompt_of(e) for e in second.from_bot()) if p]
    assert prompts == ["audience", "danger", "topic", "region"]
    assert [e["content"].get("nl.keerpunt.message") for e in second.from_bot()] == [
        "greeting",
        *["triage.question"] * 4,
        "queue.position",
    ]
    assert len(await OutboxStore(db).in_room(RoomID(second.room))) == 6
    q = await WorkflowStore(db).by_number(second.number)
    assert q is not None and await TriageStore(db).answers(q.case_id) == {
        "audience": "close",
        "danger": "no",
        "topic": "debts",
        "region": "skip",
    }
    listing_command = await counsellor.say(queue_room, "!queue")
    (listing,) = await counsellor.wait_for(lambda: counsellor.replies_to(queue_room, listing_command), what="!queue")
    assert listing.index(f"Chat {first.number}") < listing.index(f"Chat {second.number}")
    assert text("nl", "queue.staff.queue_header", count=2) in listing
    assert "Traceback" not in proc.log_file.read_text()
