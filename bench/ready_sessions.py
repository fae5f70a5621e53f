"""Ready sessions and cheaper accounts (issue 15), measured against a real Synapse.

Usage: .venv/bin/python -m bench.ready_sessions [--pool 100] [--bursts 100 300] [--rate-n 30]

Starts its own Synapse (SQLite, the test overlay with raised rate limits, but real bcrypt cost:
``real_password_hashing``) and the bots in a child process with a pool of ``--pool`` ready
sessions, then prints:

1. **sessions made per second** by the Synapse calls a start without a ready session makes
   (account + case room, ``--rate-n`` at once, 6 at a time like ``concurrent_session_starts``),
   registering with the shared secret (bcrypt) beside the application service (no hash);
2. ``POST /api/v1/sessions`` with a warm pool, one after another (p50/p95);
3. N visitors at once (``--bursts``; each a cross-signed nio client, as bench.session_start):
   failures, POST and start → greeting times, with the pool refilled before each burst.
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
from pathlib import Path

import aiohttp

from bench.common import ms, pct
from bench.session_start import ORIGIN, Run, visitor_run
from bots.db.ready_session import ReadySessionStore
from bots.homeserver.admin import SynapseAdmin
from bots.homeserver.appservice import VisitorAppservice
from bots.ids import UserID
from bots.visitors.rooms import case_room_body
from keerpunt.base.config import read_secret
from tests.support.bots import SQLITE_DATABASE, TimedBots, open_database
from tests.support.synapse import SynapseProcess, start_synapse


def bots_extra(pool: int) -> dict[str, object]:
    return {
        "bots": {
            "api": {"allowed_origins": [ORIGIN], "ready_sessions": pool},
            "rate_limit": {"per_client_per_hour": 1_000_000, "global_per_minute": 1_000_000},
            # The proof of work before a start is bench.challenge's and bench.flood's to measure.
            "challenge": {"enabled": False},
        }
    }


async def session_rate(synapse: SynapseProcess, n: int, appservice: bool) -> float:
    """Sessions per second made by register + createRoom, n in total, 6 at a time."""
    async with aiohttp.ClientSession() as http:
        admin = SynapseAdmin(synapse.url, session=http, shared_secret=synapse.shared_secret)
        creator = await admin.register(f"bench-{secrets.token_hex(4)}", secrets.token_urlsafe(16), admin=True)
        bot = SynapseAdmin(synapse.url, session=http, access_token=creator.access_token)
        token = read_secret(synapse.config, synapse.config.homeserver.visitor_appservice_token_file)
        service = VisitorAppservice(bot, token)
        slots = asyncio.Semaphore(6)

        async def one() -> None:
            async with slots:
                if appservice:
                    localpart = f"visitor-{secrets.token_hex(16)}"
                    reg = asyncio.ensure_future(service.register(localpart, device_name="Chat"))
                else:  # outside the visitor namespace: the shared secret may not register there
                    localpart = f"bench-{secrets.token_hex(16)}"
                    reg = asyncio.ensure_future(admin.register(localpart, secrets.token_urlsafe(32)))
                user = UserID(f"@{localpart}:{synapse.server_name}")
                room = asyncio.ensure_future(bot.create_room(case_room_body(creator.user_id, user)))
                await asyncio.gather(reg, room)

        started = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(n)))
        return n / (time.perf_counter() - started)


async def wait_full(bots: TimedBots, size: int, within: float = 900) -> float:
    db = await open_database(bots.config)
    started = time.perf_counter()
    try:
        while time.perf_counter() - started < within:
            ready, making = await ReadySessionStore(db).count()
            if ready >= size and making == 0:
                return time.perf_counter() - started
            await asyncio.sleep(0.5)
    finally:
        await db.stop()
    raise RuntimeError("the pool did not fill")


async def post_times(api: str, n: int) -> list[float]:
    out = []
    async with aiohttp.ClientSession() as http:
        for _ in range(n):
            started = time.perf_counter()
            async with http.post(
                api + "/api/v1/sessions", json={"language": "nl", "entry": "widget"}, headers={"Origin": ORIGIN}
            ) as resp:
                assert resp.status == 201, await resp.text()
            out.append(time.perf_counter() - started)
    return out


async def burst(bots: TimedBots, tmp: Path, n: int) -> tuple[list[Run], float]:
    stores = [tmp / secrets.token_hex(6) for _ in range(n)]
    for store in stores:
        store.mkdir(parents=True)
    timeout = aiohttp.ClientTimeout(total=900)
    started = time.perf_counter()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0), timeout=timeout) as http:
        runs = await asyncio.gather(*(visitor_run(bots.api, bots.user_id, store, http) for store in stores))
    return list(runs), time.perf_counter() - started


def report_burst(n: int, pool: int, runs: list[Run], wall: float) -> int:
    ok = [r for r in runs if r.error is None]
    failed = len(runs) - len(ok)
    print(f"\n== {n} visitors at once, pool of {pool}: {len(ok)}/{n} ok, {failed} failed, wall {wall:.1f} s")
    for error in sorted({r.error or "" for r in runs if r.error}):
        print(f"   FAILED: {error}")
    if ok:
        post = [r.phases["post"] for r in ok]
        greeting = [r.total for r in ok]
        print(f"   POST /sessions    p50 {ms(pct(post, 0.5))}   p95 {ms(pct(post, 0.95))}   max {ms(max(post))}")
        print(f"   POST → greeting   p50 {ms(pct(greeting, 0.5))}   p95 {ms(pct(greeting, 0.95))}")
    return failed


async def rates(synapse: SynapseProcess, rate_n: int) -> None:
    """Before the bots start, so that their pool does not compete for Synapse."""
    print(f"\n== sessions made per second (account + room, {rate_n} at once, 6 at a time)")
    for label, appservice in (("shared secret (bcrypt)", False), ("application service", True)) * 2:
        rate = await session_rate(synapse, rate_n, appservice)
        print(f"   {label:<24} {rate:5.2f} sessions/s", flush=True)


async def bench(bots: TimedBots, tmp: Path, pool: int, bursts: list[int]) -> int:
    fill = await wait_full(bots, pool)
    print(f"\n== pool of {pool} filled in {fill:.1f} s after start ({pool / fill:.1f} ready sessions/s)")
    times = await post_times(bots.api, 20)
    print(f"== POST /api/v1/sessions, warm pool, 20 one after another: p50 {ms(pct(times, 0.5))}"
          f"   p95 {ms(pct(times, 0.95))}")  # fmt: skip
    failures = 0
    for n in bursts:
        refill = await wait_full(bots, pool)
        print(f"\n(pool refilled in {refill:.1f} s)")
        runs, wall = await burst(bots, tmp / f"burst-{n}", n)
        failures += report_burst(n, pool, runs, wall)
    return failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pool", type=int, default=100)
    parser.add_argument("--bursts", type=int, nargs="*", default=[100, 300])
    parser.add_argument("--rate-n", type=int, default=30)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("nio").setLevel(logging.ERROR)
    tmp = Path(tempfile.mkdtemp(prefix="keerpunt-bench-pool-"))
    print("Starting Synapse (SQLite, test overlay, real bcrypt cost) and the bots …", flush=True)
    synapse = start_synapse(tmp / "synapse", real_password_hashing=True)
    bots = TimedBots(synapse, tmp / "bots", SQLITE_DATABASE, bots_extra(args.pool))
    try:
        asyncio.run(rates(synapse, args.rate_n))
        bots.start()
        failures = asyncio.run(bench(bots, tmp / "visitors", args.pool, args.bursts))
    finally:
        bots.stop()
        synapse.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"\n{failures} failed visitor run(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
