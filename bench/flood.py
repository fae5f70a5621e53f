"""A flood of ``POST /api/v1/sessions`` from one network while normal visitors from other networks
start chats: what the proof of work (and the per-network limits) leave of their start times.

Usage: .venv/bin/python -m bench.flood [--seconds 45] [--concurrency 8] [--solvers 1] [--no-rate-limit]

Real Synapse (SQLite, real password hashing) and the bots as a child process (``keerpunt run
bots``) with the shipped example's proof of work, ready sessions (10) and, unless
``--no-rate-limit``, its per-network rate limits. The bots see the TCP peer's address (no
proxy, no ``X-Forwarded-For``); networks are told apart by /24 as in production, so the flooder
binds 127.0.5.5 (127.0.5.0/24) and each normal visitor's start binds its own 127.0.N.1 (a new
network each time, as many different visitors would be).

Phases, each with a normal start every 2 seconds (challenge asked for, solved with altcha's
Python solver, which derives PBKDF2 natively as the browser's WebCrypto does, then the POST):

1. quiet: no flood;
2. unsolved flood: the flooder posts starts with no or a made-up answer as fast as
   ``--concurrency`` connections go (refused with 403, each an HMAC for the bots);
3. asking flood: the flooder only asks for challenges, as fast as it can (each costs the bots
   one key derivation; the answers are 200s, counted with the levels they had);
4. solving flood: the flooder asks for challenges (raised for its network after
   ``raise_starts_per_minute``), solves them on ``--solvers`` threads and posts the answers.

Reported: per phase, the flooder's answers by status and its start times, the normal visitors'
levels, proof-of-work time, POST time and whole start time (p50/p95/max), and the added time of
a normal start (the proof of work) against the quiet phase's POST alone.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import altcha

from bench.common import pct
from tests.support.bots import ORIGIN, SQLITE_DATABASE, BotsProcess
from tests.support.config import example_config
from tests.support.synapse import start_synapse

FLOODER = "127.0.5.5"
START = {"language": "nl", "entry": "widget"}
HEADERS = {"Origin": ORIGIN, "Content-Type": "application/json"}


@dataclass
class Starts:
    """Normal visitors' starts: seconds per part, and the levels they were given."""

    proof: list[float] = field(default_factory=list)
    post: list[float] = field(default_factory=list)
    total: list[float] = field(default_factory=list)
    levels: Counter[str] = field(default_factory=Counter)
    refused: Counter[int] = field(default_factory=Counter)


@dataclass
class Flood:
    statuses: Counter[int] = field(default_factory=Counter)
    started: list[float] = field(default_factory=list)
    levels: Counter[str] = field(default_factory=Counter)


def client(local: str) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=(local, 0)))


async def ask(http: aiohttp.ClientSession, api: str) -> dict[str, Any]:
    async with http.get(api + "/api/v1/sessions/challenge", headers={"Origin": ORIGIN}) as resp:
        assert resp.status == 200, resp.status
        return dict(await resp.json())


async def solve(got: dict[str, Any], pool: ThreadPoolExecutor) -> str:
    challenge = altcha.Challenge.from_dict(got["challenge"])
    solution = await asyncio.get_running_loop().run_in_executor(pool, altcha.solve_challenge, challenge)
    assert solution is not None
    return str(altcha.Payload(challenge, solution).to_base64())


async def post(http: aiohttp.ClientSession, api: str, body: dict[str, Any]) -> int:
    async with http.post(api + "/api/v1/sessions", json=body, headers=HEADERS) as resp:
        await resp.read()
        return resp.status


async def normal_start(api: str, network: int, starts: Starts, pool: ThreadPoolExecutor) -> None:
    async with client(f"127.0.{network}.1") as http:
        t0 = time.perf_counter()
        got = await ask(http, api)
        answer = await solve(got, pool)
        t1 = time.perf_counter()
        status = await post(http, api, {**START, "challenge": answer})
        t2 = time.perf_counter()
    if status != 201:
        starts.refused[status] += 1
        return
    starts.levels[got["level"]] += 1
    starts.proof.append(t1 - t0)
    starts.post.append(t2 - t1)
    starts.total.append(t2 - t0)


async def normal_visitors(api: str, seconds: float, first: int, pool: ThreadPoolExecutor) -> Starts:
    starts = Starts()
    tasks = []
    deadline = time.monotonic() + seconds
    network = first
    while time.monotonic() < deadline:
        tasks.append(asyncio.create_task(normal_start(api, network, starts, pool)))
        network += 1
        await asyncio.sleep(2.0)
    await asyncio.gather(*tasks)
    return starts


async def flooder(api: str, seconds: float, concurrency: int, mode: str, pool: ThreadPoolExecutor) -> Flood:
    flood = Flood()
    deadline = time.monotonic() + seconds

    async def one_connection(http: aiohttp.ClientSession) -> None:
        i = 0
        while time.monotonic() < deadline:
            i += 1
            t0 = time.perf_counter()
            if mode == "asking":
                got = await ask(http, api)
                flood.levels[got["level"]] += 1
                flood.statuses[200] += 1
                continue
            if mode == "solving":
                got = await ask(http, api)
                flood.levels[got["level"]] += 1
                body = {**START, "challenge": await solve(got, pool)}
            else:
                body = START if i % 2 else {**START, "challenge": "bm9wZQ=="}
            status = await post(http, api, body)
            flood.statuses[status] += 1
            if status == 201:
                flood.started.append(time.perf_counter() - t0)

    async with client(FLOODER) as http:
        await asyncio.gather(*(one_connection(http) for _ in range(concurrency)))
    return flood


def line(name: str, values: list[float]) -> str:
    if not values:
        return f"  {name}: none"
    spread = f"p50 {pct(values, 0.5):.3f} s  p95 {pct(values, 0.95):.3f} s  max {max(values):.3f} s"
    return f"  {name}: n={len(values)} {spread}"


def report(phase: str, starts: Starts, flood: Flood | None) -> None:
    print(f"== {phase}")
    if flood is not None:
        statuses = ", ".join(f"{status}: {n}" for status, n in sorted(flood.statuses.items()))
        print(f"  flooder (127.0.5.0/24): answers {statuses}; levels asked {dict(flood.levels) or '-'}")
        print(line("flooder's successful starts (ask + solve + POST)", flood.started))
    print(f"  normal visitors: levels {dict(starts.levels)}; refused {dict(starts.refused) or 'none'}")
    print(line("normal start, proof of work (ask + solve)", starts.proof))
    print(line("normal start, POST /api/v1/sessions", starts.post))
    print(line("normal start, whole", starts.total))


async def bench(seconds: float, concurrency: int, solvers: int, rate_limit: bool) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="keerpunt-bench-flood-"))
    shipped = example_config().bots
    limits = {
        "per_client_per_hour": shipped.rate_limit.per_client_per_hour if rate_limit else 1_000_000,
        "global_per_minute": shipped.rate_limit.global_per_minute if rate_limit else 1_000_000,
        "restarts_per_client_per_hour": shipped.rate_limit.restarts_per_client_per_hour,
    }
    extra = {
        "bots": {
            "api": {"ready_sessions": shipped.api.ready_sessions},
            "rate_limit": limits,
            "challenge": {"enabled": True},
        }
    }
    synapse = start_synapse(tmp / "synapse", real_password_hashing=True)
    bots = BotsProcess(synapse, tmp / "bots", SQLITE_DATABASE, extra)
    visitors, flood_pool = ThreadPoolExecutor(2), ThreadPoolExecutor(max(1, solvers))
    try:
        await bots.start(within=120)
        await asyncio.sleep(20)  # the ready sessions fill up
        print(
            f"per-network limits: {limits}; ready sessions {shipped.api.ready_sessions}; levels normal "
            f"{shipped.challenge.normal} / raised {shipped.challenge.raised} / hard {shipped.challenge.hard}"
        )
        quiet = await normal_visitors(bots.api, seconds / 2, 10, visitors)
        report("quiet (no flood)", quiet, None)
        await asyncio.sleep(10)
        phases = (
            ("unsolved flood", "unsolved", 60),
            ("asking flood", "asking", 100),
            ("solving flood", "solving", 140),
        )
        for phase, mode, first in phases:
            flood_task = asyncio.create_task(flooder(bots.api, seconds, concurrency, mode, flood_pool))
            await asyncio.sleep(1)
            starts = await normal_visitors(bots.api, seconds - 2, first, visitors)
            report(phase, starts, await flood_task)
            if quiet.post and starts.total:
                added = pct(starts.total, 0.5) - pct(quiet.post, 0.5)
                print(f"  added time of a normal start (p50 whole under flood - p50 quiet POST alone): {added:.3f} s")
            await asyncio.sleep(10)
        if quiet.post and quiet.proof:
            print(
                f"== the proof of work's own cost, quiet: p50 {pct(quiet.proof, 0.5):.3f} s "
                f"(POST alone p50 {pct(quiet.post, 0.5):.3f} s)"
            )
    finally:
        visitors.shutdown(cancel_futures=True)
        flood_pool.shutdown(cancel_futures=True)
        bots.terminate()
        synapse.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=45.0, help="length of each flood phase")
    parser.add_argument("--concurrency", type=int, default=8, help="the flooder's connections at once")
    parser.add_argument("--solvers", type=int, default=1, help="threads the flooder solves challenges on")
    parser.add_argument("--no-rate-limit", action="store_true", help="lift the per-network rate limits")
    args = parser.parse_args()
    asyncio.run(bench(args.seconds, args.concurrency, args.solvers, not args.no_rate_limit))


if __name__ == "__main__":
    main()
