"""Session start: POST /api/v1/sessions → visitor joined → greeting decrypted, with real E2EE.

Usage: .venv/bin/python -m bench.session_start [--runs 30] [--concurrency 20 100]

Starts its own Synapse (``tests.support.synapse.start_synapse``: SQLite, loopback, and the test
overlay ``synapse-config/30-test.yaml`` that raises Synapse's rate limits — without it 100
visitors from one address would hit the registration and join limits) and the bots in a
child process. Each visitor is a matrix-nio client with vodozemac that cross-signs its
device with the bots' helper, joins, checks the bot's device is signed by its owner, sends
the encrypted ``nl.keerpunt.start`` and waits until it has decrypted the greeting.

Prints p50/p95 per phase for sequential runs and for N concurrent visitors, the share of
the end-to-end time the bots spent in each Synapse call (from ``bots.timing``, read from the
bots process), and the bare Synapse calls (register + createRoom + join + send, plain HTTP,
no crypto) measured in the same run for comparison.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import secrets
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from nio import AsyncClient, AsyncClientConfig, MegolmEvent, RoomMessageText, RoomSendResponse

from bench.common import ms, pct, ratio_line
from bench.echo import EchoProcess
from bots.crypto.cross_signing import ensure_device_cross_signed
from bots.crypto.trust import device_cross_signed, parse_keys_query
from bots.homeserver.admin import SynapseAdmin
from bots.ids import UserID
from tests.support.bots import SQLITE_DATABASE, TimedBots
from tests.support.synapse import SynapseProcess, drop_postgres_database, start_synapse

ORIGIN = "http://bench.test"
# The bench measures the session path, not abuse control.
BOTS = {
    "bots": {
        "api": {"allowed_origins": [ORIGIN]},
        "rate_limit": {"per_client_per_hour": 1_000_000, "global_per_minute": 1_000_000},
        # The proof of work before a start is bench.challenge's and bench.flood's to measure.
        "challenge": {"enabled": False},
    }
}
PHASES = ("post", "crypto", "join", "start", "greeting")
FILTER = {"room": {"timeline": {"limit": 50}}, "presence": {"not_types": ["*"]}}


# --- one visitor ------------------------------------------------------------------------------


@dataclass
class Run:
    phases: dict[str, float] = field(default_factory=dict)
    error: str | None = None

    @property
    def total(self) -> float:
        return sum(self.phases.values())


async def _keys(http: aiohttp.ClientSession, hs: str, token: str, users: list[str]) -> dict[str, Any]:
    async with http.post(
        hs + "/_matrix/client/v3/keys/query",
        json={"device_keys": {u: [] for u in users}},
        headers={"Authorization": f"Bearer {token}"},
    ) as resp:
        return dict(await resp.json())


class Visitor:
    """One visitor's browser, done with nio: every phase is timed."""

    def __init__(self, api: str, bot: str, store: Path, http: aiohttp.ClientSession) -> None:
        self.api, self.bot, self.store, self.http = api, bot, store, http
        self.client: AsyncClient | None = None
        self.session: dict[str, Any] = {}

    async def post(self) -> None:
        body = {"language": "nl", "entry": "widget"}
        async with self.http.post(self.api + "/api/v1/sessions", json=body, headers={"Origin": ORIGIN}) as resp:
            self.session = await resp.json()
            if resp.status != 201:
                raise RuntimeError(f"POST /sessions: {resp.status} {self.session}")

    async def crypto(self) -> None:
        s = self.session
        hs, user, device, token = s["homeserver"], s["user_id"], s["device_id"], s["access_token"]
        config = AsyncClientConfig(encryption_enabled=True)
        self.client = client = AsyncClient(hs, user, device_id=device, store_path=str(self.store), config=config)
        client.restore_login(user, device, token)
        await client.keys_upload()
        await ensure_device_cross_signed(
            SynapseAdmin(hs, session=self.http, access_token=token), user, device, self.store
        )

    async def join(self) -> None:
        assert self.client is not None
        room = self.session["room_id"]
        await self.client.join(room)
        while not (room in self.client.rooms and self.bot in self.client.rooms[room].users):
            await self.client.sync(timeout=1000, sync_filter=FILTER)

    async def start(self) -> None:
        """Strict like the widget: share the room key only with the bot's cross-signed device."""
        client, room = self.client, self.session["room_id"]
        assert client is not None
        await client.joined_members(room)
        if client.should_query_keys:
            await client.keys_query()
        query = parse_keys_query(await _keys(self.http, client.homeserver, client.access_token, [self.bot]))
        for dev in client.device_store.active_user_devices(self.bot):
            if device_cross_signed(query[UserID(self.bot)], dev.id):
                client.verify_device(dev)
            else:
                client.blacklist_device(dev)
        sent = await client.room_send(room, "nl.keerpunt.start", {"language": "nl"})
        if not isinstance(sent, RoomSendResponse):
            raise RuntimeError(f"send: {sent}")

    async def greeting(self) -> None:
        client, room = self.client, self.session["room_id"]
        assert client is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            resp = await client.sync(timeout=1000, sync_filter=FILTER)
            joined = getattr(getattr(resp, "rooms", None), "join", {})
            events = [e for e in (joined[room].timeline.events if room in joined else []) if e.sender == self.bot]
            if any(isinstance(e, RoomMessageText) for e in events):
                return
            if any(isinstance(e, MegolmEvent) for e in events):
                raise RuntimeError("the greeting could not be decrypted")
        raise RuntimeError("no greeting within 60 s")


async def visitor_run(api: str, bot: str, store: Path, http: aiohttp.ClientSession) -> Run:
    run = Run()
    visitor = Visitor(api, bot, store, http)
    try:
        for phase in PHASES:
            started = time.perf_counter()
            await getattr(visitor, phase)()
            run.phases[phase] = time.perf_counter() - started
    except Exception as exc:
        run.error = f"{type(exc).__name__}: {exc}"
    finally:
        if visitor.client is not None:
            await visitor.client.close()
    return run


# --- bare Synapse ---------------------------------------------------------------------------


async def bare_run(synapse: SynapseProcess, http: aiohttp.ClientSession, creator_token: str) -> dict[str, float]:
    admin = SynapseAdmin(synapse.url, session=http, shared_secret=synapse.shared_secret)
    out: dict[str, float] = {}
    t = time.perf_counter()
    reg = await admin.register(f"bare-{secrets.token_hex(8)}", secrets.token_urlsafe(16))
    out["register"] = time.perf_counter() - t
    t = time.perf_counter()
    creator = SynapseAdmin(synapse.url, session=http, access_token=creator_token)
    room = await creator.create_room({"preset": "private_chat", "invite": [reg.user_id]})
    out["createRoom"] = time.perf_counter() - t
    t = time.perf_counter()
    await admin.request("POST", f"/_matrix/client/v3/join/{room}", {}, token=reg.access_token)
    out["join"] = time.perf_counter() - t
    t = time.perf_counter()
    await admin.request(
        "PUT",
        f"/_matrix/client/v3/rooms/{room}/send/m.room.message/{secrets.token_hex(8)}",
        {"msgtype": "m.text", "body": "hoi"},
        token=reg.access_token,
    )
    out["send"] = time.perf_counter() - t
    return out


# --- reporting ------------------------------------------------------------------------------


def report(title: str, runs: list[Run], wall: float, timings: dict[str, dict[str, float]]) -> None:
    ok = [r for r in runs if r.error is None]
    failed = [r for r in runs if r.error is not None]
    print(f"\n== {title}: {len(ok)}/{len(runs)} ok, wall {wall:.1f} s")
    for error in sorted({r.error or "" for r in failed}):
        print(f"   FAILED: {error}")
    if not ok:
        return
    totals = [r.total for r in ok]
    print(f"   end to end        p50 {ms(pct(totals, 0.5))}   p95 {ms(pct(totals, 0.95))}")
    for phase in PHASES:
        values = [r.phases[phase] for r in ok]
        print(f"   {phase:<17} p50 {ms(pct(values, 0.5))}   p95 {ms(pct(values, 0.95))}")
    spent = sum(totals)
    print("   bots' Synapse calls (count, mean, share of all end-to-end time):")
    for name, stats in sorted(timings.items(), key=lambda kv: -kv[1]["total"]):
        if name == "nio SyncResponse":
            continue  # long-poll: waiting, not work
        share = stats["total"] / spent * 100 if spent else 0.0
        print(f"     {name:<58} {int(stats['count']):5d}  {ms(stats['mean'])}  {share:5.1f} %")
    if "nio SyncResponse" in timings:
        sync = timings["nio SyncResponse"]
        print(f"     (sync long-polls: {int(sync['count'])}, waiting, not counted)")
    print(
        "     (register and createRoom also top the ready sessions up, off the visitor's path: bots.api.ready_sessions)"
    )


def start_to_greeting(run: Run) -> float:
    """From the visitor's first message (the start) to the bot's answer decrypted."""
    return run.phases["start"] + run.phases["greeting"]


def _stores(tmp: Path, count: int) -> list[Path]:
    stores = [tmp / secrets.token_hex(6) for _ in range(count)]
    for store in stores:
        store.mkdir(parents=True)
    return stores


async def measure(bots: TimedBots | EchoProcess, tmp: Path, count: int, concurrency: int) -> tuple[list[Run], float]:
    stores = _stores(tmp, max(count, concurrency))
    bots.reset()
    started = time.perf_counter()
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=600)  # a browser's fetch has no timeout; queued starts may wait
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
        if concurrency == 1:
            runs = [await visitor_run(bots.api, bots.user_id, store, http) for store in stores]
        else:
            runs = list(await asyncio.gather(*(visitor_run(bots.api, bots.user_id, store, http) for store in stores)))
    return runs, time.perf_counter() - started


async def bench(
    synapse: SynapseProcess, bots: TimedBots, echo: EchoProcess, tmp: Path, runs: int, levels: list[int]
) -> int:
    failures = 0
    await measure(bots, tmp, 2, 1)  # warm up (imports, first sync, caches)
    await measure(echo, tmp, 2, 1)
    steps = [(f"sequential, {runs} visitors one after another", runs, 1)]
    steps += [(f"{level} concurrent visitors", level, level) for level in levels]
    for index, (title, count, level) in enumerate(steps):
        # The same clients at the same concurrency in one run; which side goes first alternates,
        # since the other engineers' load on the machine moves while the bench runs.
        sides = [("echo floor (bench.echo's bot)", echo), ("Keerpunt's bots", bots)]
        runs_of: dict[str, list[Run]] = {}
        for name, target in sides if index % 2 == 0 else sides[::-1]:
            runs_of[name], wall = await measure(target, tmp, count, level)
            report(f"{title}, {name}", runs_of[name], wall, target.timings())
            failures += sum(r.error is not None for r in runs_of[name])
        floor, measured = (runs_of[name] for name, _ in sides)
        print(f"   -- Keerpunt against the echo floor, {title} (target p95 at most 1.5x, 0 failures)")
        for name, pick in (("POST → greeting", lambda r: r.total), ("start event → greeting", start_to_greeting)):
            print(ratio_line(name, [pick(r) for r in measured if not r.error], [pick(r) for r in floor if not r.error]))

    async with aiohttp.ClientSession() as http:
        admin = SynapseAdmin(synapse.url, session=http, shared_secret=synapse.shared_secret)
        creator = await admin.register(f"bare-creator-{secrets.token_hex(4)}", secrets.token_urlsafe(16))
        bare = [await bare_run(synapse, http, creator.access_token) for _ in range(runs)]
    print(f"\n== bare Synapse calls, {runs} runs one after another (plain HTTP, no crypto)")
    totals = [sum(b.values()) for b in bare]
    print(f"   register+createRoom+join+send  p50 {ms(pct(totals, 0.5))}   p95 {ms(pct(totals, 0.95))}")
    for name in ("register", "createRoom", "join", "send"):
        values = [b[name] for b in bare]
        print(f"   {name:<30} p50 {ms(pct(values, 0.5))}   p95 {ms(pct(values, 0.95))}")
    return failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=30, help="sequential visitors (default 30)")
    parser.add_argument("--concurrency", type=int, nargs="*", default=[20, 100], help="concurrent visitor counts")
    parser.add_argument("--postgres", metavar="ADMIN_URL", help="run Synapse on a fresh PostgreSQL database")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("nio").setLevel(logging.ERROR)  # "Missing session … " before each key claim
    tmp = Path(tempfile.mkdtemp(prefix="keerpunt-bench-"))
    backend = "PostgreSQL" if args.postgres else "SQLite"
    print(f"Starting Synapse ({backend}, test overlay with raised rate limits) and the bots …", flush=True)
    synapse = start_synapse(tmp / "synapse", postgres_admin_url=args.postgres, real_password_hashing=True)
    bots = TimedBots(synapse, tmp / "bots", SQLITE_DATABASE, BOTS)
    echo = EchoProcess(synapse, tmp / "echo", bots.config.bots.api.concurrent_session_starts)
    try:
        bots.start()
        echo.start()
        failures = asyncio.run(bench(synapse, bots, echo, tmp / "visitors", args.runs, args.concurrency))
    finally:
        echo.stop()
        bots.stop()
        synapse.stop()
        if args.postgres and synapse.database_url:
            drop_postgres_database(args.postgres, synapse.database_url)
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"\n{failures} failed visitor run(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
