"""Triage under load: N concurrent visitors answer the triage; time from each answer to the bot's next question.

Usage: .venv/bin/python -m bench.triage [--visitors 50] [--procs 5] [--counsellors 2] [--rounds 1]
       [--staggered] [--postgres postgresql://postgres@127.0.0.1:5432/postgres]

Everything is real: Synapse (``tests.support.synapse.start_synapse``: one process on loopback, on
SQLite or, with ``--postgres``, PostgreSQL, with the test overlay
``synapse-config/30-test.yaml``, which raises Synapse's rate limits — without it 50 visitors
from one address hit the registration, join and message limits), the bots in a
child process (``BotsService``, the bot account exempt from rate limits as in production),
cross-signed counsellors in the queue room (so every card is encrypted for real recipients)
and visitors as matrix-nio clients with vodozemac that cross-sign their device, join, check
the bot's device is signed by its owner, and send the encrypted ``nl.keerpunt.start``.

The visitors are spread over ``--procs`` processes so that the visitors' own crypto does not
queue behind one event loop. Each visitor syncs continuously; after each question it answers
at once (a random non-urgent option, as a button reply, its number or its label) and the
time from just before its ``/send`` to the moment its sync delivers and decrypts the bot's
next question is one sample. The last answer's sample is the time to the "thank you, you are
number N" message. Prints p50/p95/max per question and overall, and the bots' Synapse calls.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import multiprocessing as mp
import random
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import aiohttp
from nio import AsyncClient, AsyncClientConfig, MegolmEvent, RoomSendResponse

from bench.common import cpu_seconds, ms, pct, ratio_line
from bench.echo import KIND, EchoProcess
from bots.crypto.cross_signing import ensure_device_cross_signed
from bots.crypto.trust import device_cross_signed, parse_keys_query
from bots.homeserver.account import load_session
from bots.homeserver.admin import SynapseAdmin
from bots.ids import UserID
from bots.triage import load_definition
from tests.support.bots import SQLITE_DATABASE, TimedBots
from tests.support.synapse import SynapseProcess, create_postgres_database, drop_postgres_database, start_synapse

ORIGIN = "http://bench.test"
FILTER = {"room": {"timeline": {"limit": 100}}, "presence": {"not_types": ["*"]}}
DEFINITION = load_definition()
MODES = ("button", "number", "label")
# The bench measures triage, not abuse control.
BOTS = {
    "bots": {
        "api": {"allowed_origins": [ORIGIN]},
        "rate_limit": {"per_client_per_hour": 1_000_000, "global_per_minute": 1_000_000},
        # The proof of work before a start is bench.challenge's and bench.flood's to measure.
        "challenge": {"enabled": False},
    }
}


# --- the bots (tests.support.bots.TimedBots, in their own process) and counsellors ---------------


async def add_counsellors(synapse: SynapseProcess, bots: TimedBots, count: int, tmp: Path) -> list[AsyncClient]:
    """Cross-signed counsellors in the queue room, syncing (so they receive every card's key)."""
    from bots.db import create_database
    from bots.db.system_room import SystemRoomStore

    db = create_database(bots.config)
    await db.start()
    try:
        queue_room = await SystemRoomStore(db).get("queue")
    finally:
        await db.stop()
    session = load_session(bots.config)
    assert queue_room is not None and session is not None
    clients = []
    async with aiohttp.ClientSession() as http:
        admin = SynapseAdmin(synapse.url, session=http, shared_secret=synapse.shared_secret)
        for i in range(count):
            reg = await admin.register(f"counsellor{i}-{secrets.token_hex(4)}", secrets.token_urlsafe(16))
            store = tmp / f"counsellor{i}"
            store.mkdir(parents=True)
            client = AsyncClient(synapse.url, reg.user_id, device_id=reg.device_id, store_path=str(store))
            client.restore_login(reg.user_id, reg.device_id, reg.access_token)
            await client.keys_upload()
            own = SynapseAdmin(synapse.url, session=http, access_token=reg.access_token)
            await ensure_device_cross_signed(own, reg.user_id, reg.device_id, store)
            bot_admin = SynapseAdmin(synapse.url, session=http, access_token=session.access_token)
            await bot_admin.force_join(queue_room, reg.user_id)
            clients.append(client)
    return clients


async def keep_syncing(clients: list[AsyncClient]) -> None:
    while True:
        for client in clients:
            with contextlib.suppress(Exception):
                await client.sync(timeout=0, sync_filter=FILTER)
        await asyncio.sleep(1)


# --- visitors, in worker processes ------------------------------------------------------------


@dataclass
class Result:
    samples: list[tuple[str, float]] = field(default_factory=list)  # (question answered, seconds)
    setup: float = 0.0
    error: str | None = None
    cpu: float = 0.0  # its worker process's CPU seconds, on the worker's first visitor only


class Visitor:
    def __init__(
        self, api: str, bot: str, store: Path, http: aiohttp.ClientSession, rng: random.Random, echo: bool
    ) -> None:
        self.api, self.bot, self.store, self.http, self.rng = api, bot, store, http, rng
        self.echo = echo  # the floor: every answer from bench.echo's bot is a "next question"
        self.client: AsyncClient | None = None
        self.session: dict[str, Any] = {}
        self.inbox: asyncio.Queue[tuple[float, dict[str, Any]]] = asyncio.Queue()
        self.pending: dict[str, MegolmEvent] = {}
        self.arrived = asyncio.Event()  # at question 1 (or failed getting there)

    async def setup(self) -> None:
        async with self.http.post(
            self.api + "/api/v1/sessions", json={"language": "nl", "entry": "widget"}, headers={"Origin": ORIGIN}
        ) as resp:
            self.session = await resp.json()
            if resp.status != 201:
                raise RuntimeError(f"POST /sessions: {resp.status} {self.session}")
        s = self.session
        self.client = client = AsyncClient(
            s["homeserver"],
            s["user_id"],
            device_id=s["device_id"],
            store_path=str(self.store),
            config=AsyncClientConfig(encryption_enabled=True),
        )
        client.restore_login(s["user_id"], s["device_id"], s["access_token"])
        await client.keys_upload()
        token_api = SynapseAdmin(s["homeserver"], session=self.http, access_token=s["access_token"])
        await ensure_device_cross_signed(token_api, s["user_id"], s["device_id"], self.store)
        await client.join(s["room_id"])
        while not (s["room_id"] in client.rooms and self.bot in client.rooms[s["room_id"]].users):
            await client.sync(timeout=1000, sync_filter=FILTER)
        await client.joined_members(s["room_id"])
        if client.should_query_keys:
            await client.keys_query()
        async with self.http.post(
            s["homeserver"] + "/_matrix/client/v3/keys/query",
            json={"device_keys": {self.bot: []}},
            headers={"Authorization": f"Bearer {s['access_token']}"},
        ) as resp:
            query = parse_keys_query(await resp.json())
        for device in client.device_store.active_user_devices(self.bot):
            if device_cross_signed(query[UserID(self.bot)], device.id):
                client.verify_device(device)
            else:
                client.blacklist_device(device)

    async def sync_forever(self) -> None:
        client, room = self.client, self.session["room_id"]
        assert client is not None
        while True:
            resp = await client.sync(timeout=30_000, sync_filter=FILTER)
            arrived = time.perf_counter()
            joined = getattr(getattr(resp, "rooms", None), "join", {})
            for event in joined[room].timeline.events if room in joined else []:
                if event.sender != self.bot:
                    continue
                if isinstance(event, MegolmEvent):
                    self.pending[event.event_id] = event
                elif isinstance(event.source, dict) and event.source.get("type") == "m.room.message":
                    self.inbox.put_nowait((arrived, event.source["content"]))
            for event_id, event in list(self.pending.items()):
                with contextlib.suppress(Exception):
                    decrypted = client.decrypt_event(event)
                    del self.pending[event_id]
                    self.inbox.put_nowait((arrived, decrypted.source["content"]))

    async def next_message(self, kind: str) -> tuple[float, dict[str, Any]]:
        while True:
            arrived, content = await asyncio.wait_for(self.inbox.get(), 60)
            if content.get("nl.keerpunt.message") == (KIND if self.echo else kind):
                return arrived, content

    def choose(self, question_id: str) -> dict[str, Any]:
        question = DEFINITION.question(question_id)
        assert question is not None
        choices = [o for o in question.options if not o.urgent] + [DEFINITION.skip]
        option = self.rng.choice(choices)
        mode = self.rng.choice(MODES)
        if mode == "number":
            return {"msgtype": "m.text", "body": str([*question.options, DEFINITION.skip].index(option) + 1)}
        content: dict[str, Any] = {"msgtype": "m.text", "body": option.label["nl"]}
        if mode == "button":
            content["nl.keerpunt.reply"] = {"prompt": question_id, "option": option.id}
        return content

    async def run(self, ready: asyncio.Event | None) -> Result:
        """Start a session; wait for ``ready`` (all visitors at question 1); answer everything."""
        result = Result()
        started = time.perf_counter()
        syncing: asyncio.Task[None] | None = None
        try:
            try:
                await self.setup()
                syncing = asyncio.create_task(self.sync_forever())
                client, room = self.client, self.session["room_id"]
                assert client is not None
                sent = await client.room_send(room, "nl.keerpunt.start", {"language": "nl"})
                if not isinstance(sent, RoomSendResponse):
                    raise RuntimeError(f"send: {sent}")
                _, question = await self.next_message("triage.question")
                result.setup = time.perf_counter() - started
            finally:
                self.arrived.set()
            if ready is not None:
                await ready.wait()
            for index, q in enumerate(DEFINITION.questions):
                prompt = question.get("nl.keerpunt.prompt", {}).get("id")
                if prompt != q.id and not self.echo:
                    raise RuntimeError(f"expected question {q.id}, got {prompt}")
                t0 = time.perf_counter()
                reply = await client.room_send(room, "m.room.message", self.choose(q.id))
                if not isinstance(reply, RoomSendResponse):
                    raise RuntimeError(f"send: {reply}")
                last = index == len(DEFINITION.questions) - 1
                arrived, question = await self.next_message("queue.position" if last else "triage.question")
                result.samples.append((q.id, arrived - t0))
        except Exception as exc:
            result.error = f"{type(exc).__name__}: {exc}"
        finally:
            if syncing is not None:
                syncing.cancel()
                with contextlib.suppress(BaseException):
                    await syncing
            if self.client is not None:
                await self.client.close()
        return result


def _worker(
    api: str, bot: str, tmp: str, count: int, seed: int, go: Any, barrier: Any, echo: bool, conn: Connection
) -> None:
    logging.basicConfig(level=logging.ERROR)
    logging.getLogger("nio").setLevel(logging.CRITICAL)

    async def main() -> list[Result]:
        rng = random.Random(seed)
        stores = []
        for _ in range(count):
            store = Path(tmp) / secrets.token_hex(6)
            store.mkdir(parents=True)
            stores.append(store)
        async with aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0), timeout=aiohttp.ClientTimeout(total=120)
        ) as http:
            visitors = [Visitor(api, bot, store, http, rng, echo) for store in stores]
            go.wait()
            ready = asyncio.Event() if barrier is not None else None
            runs = asyncio.gather(*(v.run(ready) for v in visitors))
            if ready is not None:
                await asyncio.gather(*(v.arrived.wait() for v in visitors))
                await asyncio.to_thread(barrier.wait)  # every process: all its visitors at question 1
                ready.set()
            return list(await runs)

    results = asyncio.run(main())
    results[0].cpu = time.process_time()
    conn.send(results)


def run_visitors(
    bots: TimedBots | EchoProcess, tmp: Path, visitors: int, procs: int, seed: int, together: bool
) -> tuple[list[Result], float]:
    ctx = mp.get_context("spawn")
    go = ctx.Event()
    barrier = ctx.Barrier(procs) if together else None
    workers = []
    for i in range(procs):
        share = visitors // procs + (1 if i < visitors % procs else 0)
        parent, child = ctx.Pipe()
        echo = isinstance(bots, EchoProcess)
        args = (bots.api, bots.user_id, str(tmp / f"w{i}"), share, seed + i, go, barrier, echo, child)
        proc = ctx.Process(target=_worker, args=args)
        proc.start()
        workers.append((proc, parent))
    time.sleep(2.0)  # let the workers import before the start signal
    started = time.perf_counter()
    go.set()
    results: list[Result] = []
    for proc, parent in workers:
        results += parent.recv()
        proc.join(30)
    return results, time.perf_counter() - started


# --- reporting ------------------------------------------------------------------------------


def report(
    results: list[Result], wall: float, timings: dict[str, dict[str, float]], busy: dict[str, float] | None = None
) -> int:
    ok = [r for r in results if r.error is None]
    failed = [r for r in results if r.error is not None]
    print(f"\n== {len(results)} concurrent visitors: {len(ok)} completed triage, wall {wall:.1f} s")
    if busy:
        shares = ", ".join(f"{name} {seconds / wall * 100:.0f} %" for name, seconds in busy.items())
        print(f"   CPU of one core used during the run: {shares}")
    for error in sorted({r.error or "" for r in failed}):
        print(f"   FAILED: {error}")
    samples = [s for r in ok for _, s in r.samples]
    if samples:
        print("   answer → bot's next question (the last: → 'you are number N')")
        print(
            f"   all {len(samples):4d} answers     p50 {ms(pct(samples, 0.5))}  p95 {ms(pct(samples, 0.95))}"
            f"  max {ms(max(samples))}  mean {ms(statistics.mean(samples))}"
        )
        for q in DEFINITION.questions if len(ok) > 1 else ():
            values = [s for r in ok for qid, s in r.samples if qid == q.id]
            print(f"   after {q.id:<12} p50 {ms(pct(values, 0.5))}  p95 {ms(pct(values, 0.95))}  max {ms(max(values))}")
        setups = [r.setup for r in ok]
        print(f"   (session → first question: p50 {ms(pct(setups, 0.5))}, p95 {ms(pct(setups, 0.95))})")
    if timings:
        print("   bots' Synapse calls during the run (count, mean):")
    for name, stats in sorted(timings.items(), key=lambda kv: -kv[1]["total"])[:12]:
        if name != "nio SyncResponse":
            print(f"     {name:<58} {int(stats['count']):5d}  {ms(stats['mean'])}")
    return len(failed)


def answer_samples(results: list[Result]) -> list[float]:
    return [s for r in results if r.error is None for _, s in r.samples]


def setups(results: list[Result]) -> list[float]:
    return [r.setup for r in results if r.error is None]


def compare(floor: list[Result], keerpunt: list[Result]) -> float:
    """Keerpunt's p95 beside the echo floor's, measured in the same run (the target: at most 1.5 times)."""
    print("\n== Keerpunt's bots against the echo floor, same run, same clients and concurrency (target p95 ≤ 1.5×)")
    pairs = (
        ("answer → next question", answer_samples(floor), answer_samples(keerpunt)),
        ("session → first question", setups(floor), setups(keerpunt)),
    )
    for name, low, high in pairs:
        print(ratio_line(name, high, low))
    return pct(answer_samples(keerpunt), 0.95) / pct(answer_samples(floor), 0.95)


async def bench(
    synapse: SynapseProcess, bots: TimedBots, echo: EchoProcess, tmp: Path, args: argparse.Namespace
) -> int:
    counsellors = await add_counsellors(synapse, bots, args.counsellors, tmp / "staff")
    syncing = asyncio.create_task(keep_syncing(counsellors))
    failures = 0
    pids = {"Synapse": synapse.process.pid if synapse.process else None, "bots": bots.proc.pid, "echo": echo.proc.pid}
    print("   pids (for a profiler): " + ", ".join(f"{name} {pid}" for name, pid in pids.items()), flush=True)
    try:
        results, wall = await asyncio.to_thread(run_visitors, bots, tmp / "baseline", 1, 1, args.seed, True)
        print("\nBaseline, one visitor alone:", end="")
        failures += report(results, wall, {})
        ratios: list[float] = []
        for r in range(args.rounds):
            rounds: list[list[Result]] = []
            order = [("echo floor (bench.echo's bot)", echo), ("Keerpunt's bots", bots)]
            # Alternate which side goes first: the other engineers' load moves while a round runs.
            for name, target in order if r % 2 == 0 else order[::-1]:
                target.reset()
                before = {name: cpu_seconds(pid) for name, pid in pids.items()}
                results, wall = await asyncio.to_thread(
                    run_visitors,
                    target,
                    tmp / f"round{r}-{len(rounds)}",
                    args.visitors,
                    args.procs,
                    args.seed + 100 * r,
                    not args.staggered,
                )
                busy = {name: cpu_seconds(pid) - before[name] for name, pid in pids.items()}
                busy["visitors' processes"] = sum(r.cpu for r in results)
                print(f"\n-- {name}", end="")
                failures += report(results, wall, target.timings(), busy)
                rounds.append(results)
            ratios.append(compare(*(rounds if r % 2 == 0 else rounds[::-1])))
        if len(ratios) > 1:
            each = ", ".join(f"{x:.2f}x" for x in ratios)
            print(f"\n== answer p95 ratios per round: {each}; median {statistics.median(ratios):.2f}x")
    finally:
        syncing.cancel()
        with contextlib.suppress(BaseException):
            await syncing
        for client in counsellors:
            await client.close()
    return failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--visitors", type=int, default=50)
    parser.add_argument("--procs", type=int, default=5, help="visitor processes (default 5)")
    parser.add_argument("--counsellors", type=int, default=2, help="cross-signed counsellors in the queue room")
    parser.add_argument("--rounds", type=int, default=1, help="repeat the whole run (fresh visitors)")
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--postgres", metavar="ADMIN_URL", help="run Synapse and the bots on PostgreSQL")
    parser.add_argument(
        "--staggered",
        action="store_true",
        help="answer as soon as question 1 arrives, while other sessions are still being created "
        "(default: all visitors reach question 1 first, then all answer at once)",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("nio").setLevel(logging.ERROR)
    tmp = Path(tempfile.mkdtemp(prefix="keerpunt-bench-triage-"))
    backend = "PostgreSQL" if args.postgres else "SQLite"
    print(f"Starting Synapse ({backend}, test overlay with raised rate limits) and the bots …", flush=True)
    synapse = start_synapse(tmp / "synapse", postgres_admin_url=args.postgres, real_password_hashing=True)
    bots_db = create_postgres_database(args.postgres, "keerpunt_bench_bots") if args.postgres else None
    bots = TimedBots(synapse, tmp / "bots", bots_db or SQLITE_DATABASE, BOTS)
    echo = EchoProcess(synapse, tmp / "echo", bots.config.bots.api.concurrent_session_starts)
    failures = 0
    try:
        bots.start()
        echo.start()
        failures = asyncio.run(bench(synapse, bots, echo, tmp, args))
    finally:
        echo.stop()
        bots.stop()
        synapse.stop()
        if args.postgres:
            for url in (synapse.database_url, bots_db):
                if url:
                    drop_postgres_database(args.postgres, url)
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"\n{failures} failed visitor run(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
