"""The run: the stack, the counsellors, visitors starting throughout, and the faults one at a
time with a pause between, then a settling minute and the count."""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

from keerpunt.base.config import load_config
from keerpunt.base.routing import WORKERS
from keerpunt.devworkers import EFFECTIVE_CONFIG
from tests.support.matrix_clients import ClientFactory
from tests.support.synapse import SynapseProcess

from .infra import Stack
from .ledger import Ledger
from .traffic import Conversation, Counsellor, Syncing, add_counsellor, log

DOUBLE = "bots+streams1"  # the double fault: the bots and the writer of to-device messages
FAULTS = ("bots", "main", *(w.name for w in WORKERS), "postgres", "redis", "caddy", "portal", DOUBLE)
SETTLE = 60.0  # seconds after the last send until what is still unreadable counts as lost
IMPOSSIBLE = {
    "claimed by nobody": "SELECT COUNT(*) FROM queue_case WHERE stage='claimed' AND claimed_by IS NULL",
    "open with no room": "SELECT COUNT(*) FROM visitor_case WHERE state='open' AND room_id IS NULL",
    "dormant without expiry": "SELECT COUNT(*) FROM visitor_case WHERE state='dormant' AND purge_after IS NULL",
}


@dataclass
class Options:
    folder: Path
    visitors: int = 50
    counsellors: int = 0  # 0: one per two visitors (Synapse's rc_message: 0.2/s, burst 10)
    pause: float = 60.0  # seconds from one fault to the next
    pace: tuple[float, float] = (5.0, 20.0)  # seconds between two messages of one side
    end_share: float = 0.25  # visitors who end the chat (closed and purged) half-way
    faults: tuple[str, ...] = FAULTS
    seed: int = 27
    started: float = field(default_factory=time.monotonic)


async def run(opts: Options) -> Ledger:
    ledger = Ledger()
    random.seed(opts.seed)
    stack = await asyncio.to_thread(Stack.start, opts.folder)
    config = load_config(stack.dev.data_dir / EFFECTIVE_CONFIG, data_dir=str(stack.dev.data_dir))
    clients = ClientFactory(SynapseProcess(config, "postgres"), opts.folder)
    syncs: list[Syncing] = []
    try:
        count = opts.counsellors or math.ceil(opts.visitors / 2)
        counsellors = [await add_counsellor(stack, clients, ledger, i) for i in range(count)]
        syncs += [c.sync for c in counsellors]
        talks = await _traffic_and_faults(opts, stack, clients, ledger, counsellors)
        syncs += [c.sync for c in talks if c.sync is not None]
        await _settle(ledger, syncs)
        _count_undecryptable(ledger, syncs, {c.visitor.room for c in talks if c.visitor is not None})
        ledger.impossible = _impossible_states(config.path("bots") / "bots.db")
        ledger.held_to_device = await _held_to_device(stack, [s.observer.user_id for s in syncs if not s.task.done()])
    finally:
        for s in syncs:
            await s.stop()
        await clients.close()
        await asyncio.to_thread(stack.stop)
    return ledger


async def _traffic_and_faults(
    opts: Options, stack: Stack, clients: ClientFactory, ledger: Ledger, counsellors: list[Counsellor]
) -> list[Conversation]:
    schedule_ends = time.monotonic() + opts.pause * (len(opts.faults) + 1)
    early = max(1, opts.visitors // 3)  # talking before the first fault; the rest start throughout
    gap = opts.pause * len(opts.faults) / max(1, opts.visitors - early)
    conversations: list[Conversation] = []
    tasks: list[asyncio.Task[None]] = []

    async def one(conv: Conversation, ends: bool) -> None:
        if not await conv.start():
            return
        if ends:
            await conv.talk(time.monotonic() + (schedule_ends - time.monotonic()) / 2, opts.pace)
            await conv.end()
        else:
            await conv.talk(schedule_ends, opts.pace)

    async def starter() -> None:
        for i in range(opts.visitors):
            conv = Conversation(stack, clients, ledger, counsellors[i % len(counsellors)])
            conversations.append(conv)
            tasks.append(asyncio.ensure_future(one(conv, random.random() < opts.end_share)))
            await asyncio.sleep(2 if i < early else gap)

    start_task = asyncio.ensure_future(starter())
    await asyncio.sleep(opts.pause)  # the warm-up: conversations under way before the first fault
    for fault in opts.faults:
        window = ledger.begin(fault)
        log.warning("fault: %s", fault)
        await asyncio.gather(*(stack.kill(target) for target in fault.split("+")))
        window.back_after = time.monotonic() - window.began
        await asyncio.sleep(max(0.0, opts.pause - window.back_after))
    await start_task
    await asyncio.gather(*tasks)
    return conversations


async def _settle(ledger: Ledger, syncs: list[Syncing]) -> None:
    """Up to a minute for what was sent last to arrive and for late room keys."""
    deadline = time.monotonic() + SETTLE
    while time.monotonic() < deadline:
        if not ledger.pending() and not any(s.observer.undecryptable for s in syncs):
            return
        await asyncio.sleep(1)


def _count_undecryptable(ledger: Ledger, syncs: list[Syncing], rooms: set[str]) -> None:
    seen: set[str] = set()
    for s in syncs:
        for event_id, (room, event) in s.observer.undecryptable.items():
            if room in rooms and event_id not in seen:
                seen.add(event_id)
                window = ledger.window_at(int(event.server_timestamp))
                came = "its room key came" if event.session_id in s.keys_for else "no room key came"
                log.warning(
                    "undecryptable for %s: from %s %s, session %s, sent in %s; %s",
                    s.side,
                    event.sender,
                    event.device_id,
                    event.session_id,
                    window,
                    came,
                )
                ledger.undecryptable[window] = ledger.undecryptable.get(window, 0) + 1


async def _held_to_device(stack: Stack, users: list[str]) -> int:
    """To-device messages Synapse still holds for devices that kept syncing through the settling
    minute: a sync deletes what it delivered, so these were never delivered."""
    import asyncpg

    name = (stack.dev.data_dir / "synapse" / "dev-database").read_text().strip()
    conn = await asyncpg.connect(stack.pg.url.rsplit("/", 1)[0] + "/" + name)
    try:
        rows = await conn.fetch(
            "SELECT user_id, device_id, stream_id, message_json FROM device_inbox WHERE user_id = ANY($1::text[])",
            users,
        )
    finally:
        await conn.close()
    for row in rows:
        log.warning("held, never delivered: to %s %s, stream %s: %.120s", row[0], row[1], row[2], row[3])
    return len(rows)


def _impossible_states(database: Path) -> dict[str, int]:
    with contextlib.closing(sqlite3.connect(database)) as db:
        return {name: int(db.execute(query).fetchone()[0]) for name, query in IMPOSSIBLE.items()}
