"""SIGKILL at several points of a burst of visitor messages: same device, each message handled once.

The bots run as a real child process (``python -m keerpunt --config … run bots``) and are
killed with SIGKILL at different moments while the visitor keeps writing; after each
restart every message must be handled exactly once, the greeting sent exactly once, and
nothing may fail to decrypt.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bots.db import Database
from bots.db.handled_event import HandledEventStore
from bots.db.outbox import OutboxStore
from bots.ids import RoomID
from tests.support.bots import BotsProcess, open_database
from tests.support.matrix_clients import ClientFactory, TestUser
from tests.support.synapse import SynapseProcess
from tests.support.visitor import cross_signed_by_owner, join, keys_query, messages_from, new_session, send, speak_first
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.pg]

# Seconds into a burst at which the bot is killed: before it sees anything, mid-burst, near the end.
KILL_POINTS = (0.0, 0.12, 0.35)
BURST = 4
# What the bot says in this conversation (issue 4's triage): the kinds of its messages in order.
BOT_TURN = ["greeting", "triage.question", "triage.question", "queue.position"]


@pytest.fixture
async def bots_process(synapse: SynapseProcess, tmp_path: Path, bots_database: str) -> AsyncIterator[BotsProcess]:
    proc = BotsProcess(synapse, tmp_path, bots_database)
    await proc.start()
    yield proc
    proc.terminate()


async def _burst(visitor: TestUser, room: str, label: str) -> list[str]:
    sent = []
    for i in range(BURST):
        body = {"msgtype": "m.text", "body": f"{label} {i}"}
        sent.append(await send(visitor, room, "m.room.message", body))
        await asyncio.sleep(0.04)
    return sent


async def _bot_message_events(clients: ClientFactory, room: str, bot: str) -> list[str]:
    operator = await clients.user("operator", admin=True)
    url = f"{clients.synapse.url}/_synapse/admin/v1/rooms/{room}/messages?dir=b&limit=1000"
    headers = {"Authorization": f"Bearer {operator.registration.access_token}"}
    async with aiohttp.ClientSession() as http, http.get(url, headers=headers) as resp:
        chunk = (await resp.json())["chunk"]
    return [e["event_id"] for e in chunk if e["sender"] == bot and "state_key" not in e]


async def _handled(db: Database, room: str) -> dict[str, str]:
    return {r.event_id: r.outcome for r in await HandledEventStore(db).in_room(RoomID(room))}


async def test_sigkill_during_a_burst_loses_nothing_and_answers_each_message_once(
    bots_process: BotsProcess, clients: ClientFactory
) -> None:
    proc = bots_process
    config = proc.config
    bot = config.bot_user_id
    session_file = config.path(config.bots.store_dir) / "session.json"
    device = json.loads(session_file.read_text())["device_id"]
    observer = await clients.user("observer")
    identity = (await keys_query(observer.client, [bot]))["master_keys"][bot]

    session = await new_session(proc.api)
    room = session["room_id"]
    visitor = await clients.visitor(session)
    await join(visitor, room, bot)
    sent = [await speak_first(visitor, room)]
    db = await open_database(config)
    try:
        for point in KILL_POINTS:
            burst = asyncio.create_task(_burst(visitor, room, f"burst at {point}"))
            await asyncio.sleep(point)
            proc.kill()
            sent += await burst
            sent.append(await send(visitor, room, "m.room.message", {"msgtype": "m.text", "body": "while down"}))
            await proc.start()
            assert json.loads(session_file.read_text())["device_id"] == device

        async def all_handled() -> bool:
            return set(await _handled(db, room)) >= set(sent)

        await wait_until(all_handled, within=30, what="every visitor message to be handled")
        handled = await _handled(db, room)
        assert set(handled) == set(sent), "an event was recorded that the visitor did not send"
        assert set(handled.values()) == {"handled"}, "a message was not decrypted or not trusted"
        rows = await HandledEventStore(db).in_room(RoomID(room))
        assert len(rows) == len(set(sent))
        # The greeting, the first triage question, one gentle re-ask, and (after the second
        # message that is no answer) the place in the queue: every visitor message answered once.
        answers = await OutboxStore(db).in_room(RoomID(room))
        assert len(answers) == len(BOT_TURN)
        for answer in answers:
            await wait_until(lambda a=answer: _sent(db, a.txn_id), what="the bot's messages to be sent")
    finally:
        await db.stop()

    got, failed = await messages_from(visitor, room, bot, count=len(BOT_TURN))
    assert len(got) == len(BOT_TURN) and not failed
    assert [m.source["content"].get("nl.keerpunt.message") for m in got] == BOT_TURN
    assert sorted(await _bot_message_events(clients, room, bot)) == sorted(m.event_id for m in got)
    after = await keys_query(observer.client, [bot])
    assert after["master_keys"][bot] == identity
    assert list(after["device_keys"][bot]) == [device]
    assert cross_signed_by_owner(after, bot, device)
    assert "Traceback" not in proc.log_file.read_text()


async def _sent(db: Database, txn_id: str) -> bool:
    row = await OutboxStore(db).get(txn_id)
    return row is not None and row.state == "sent"
