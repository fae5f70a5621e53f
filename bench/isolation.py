"""Isolation: does a flood on the portal slow the chat? (issue 16)

Usage: .venv/bin/python -m bench.isolation [--visitors 6] [--messages 10] [--blocks 3]
       [--connections 32] [--portal-workers 1] [--cpu-limit CPUS] [--cpu-shares SHARES]

Everything real and each in its own process, as in production: Synapse (one process, SQLite,
test overlay), the bots (``keerpunt run bots``), the portal (``keerpunt run portal``). The
same work in every block: ``--visitors`` sessions started one after the other (POST to the
session API → a cross-signed nio visitor joins and speaks first → the bot's greeting
decrypted: "start → greeting"), then ``--messages`` messages from one visitor to a
counsellor who claimed the chat ("visitor → counsellor": from just before the send to the
counsellor's client decrypting it). ``--blocks`` times a quiet block, then a block while
``wrk`` floods the portal's cached article page with ``--connections`` connections
(alternating, so that a change in the machine's other load falls on both sides). Prints
p50/p95 of both side by side and the ratio (the target is ≤ 1.2x), plus the portal's
throughput under the flood.

The portal runs under the CPU limit compose.yaml gives its service (``cpus`` and
``cpu_shares``, read from the file; ``--cpu-limit`` and ``--cpu-shares`` change them), set on
a cgroup of its own by ``bench.cpulimit``: the line "portal limited by" says how, and the
portal's CPU time during the flood (with its workers) shows that the limit holds. ``wrk`` is
not limited: on one machine the flood's own CPU is part of what the chat competes with.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import yaml

from bench.common import cpu_seconds, ms, pct
from bench.cpulimit import CpuLimit, compose_limit
from bots.db.system_room import SystemRoomStore
from tests.support.bots import SQLITE_DATABASE, BotsProcess, open_database
from tests.support.matrix_clients import ClientFactory
from tests.support.staff import Observer, add_counsellor
from tests.support.synapse import free_port, start_synapse
from tests.support.triage import Visitor, answer_all
from tests.support.visitor import join, new_session, speak_first

ARTICLE = "/nl/artikel/zo-word-je-geronseld"
COMPOSE = Path(__file__).resolve().parents[1] / "compose.yaml"
ANSWERS = {"audience": "self", "danger": "no", "topic": "debts", "region": "utrecht"}


def start_portal(bots: BotsProcess, folder: Path, workers: int, limit: CpuLimit) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    config = yaml.safe_load(bots.config_file.read_text())
    config["portal"] = {"port": port, "public_url": url, "api_url": bots.api, "workers": workers}
    config["data_dir"] = str(folder / "portal-data")
    path = folder / "portal.yaml"
    path.write_text(yaml.safe_dump(config))
    log = (folder / "portal.log").open("ab")
    proc = subprocess.Popen(
        [sys.executable, "-m", "keerpunt", "--config", str(path), "run", "portal"],
        stdout=log,
        stderr=log,
        preexec_fn=limit.preexec(),  # noqa: PLW1509 - only writes the child's pid into its cgroup
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(url + ARTICLE, timeout=2) as resp:  # noqa: S310 - loopback
                if resp.status == 200:
                    return proc, url
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError("the portal did not start")
        time.sleep(0.2)


async def start_to_greeting(clients: ClientFactory, bots: BotsProcess) -> float:
    began = time.perf_counter()
    session = await new_session(bots.api, "nl")
    user = await clients.visitor(session)
    await join(user, session["room_id"], bots.config.bot_user_id)
    visitor = Visitor(Observer(user), session, bots.config.bot_user_id)
    await speak_first(user, session["room_id"], "nl")
    await visitor.next_from_bot(0, count=1, within=60)
    took = time.perf_counter() - began
    await user.client.close()
    return took


async def start_flood(url: str, connections: int) -> asyncio.subprocess.Process:
    """``wrk`` on the cached article page, for a long duration: :func:`stop_flood` ends it."""
    wrk = await asyncio.create_subprocess_exec(
        "wrk", "-t2", f"-c{connections}", "-d600s", url + ARTICLE,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    await asyncio.sleep(2)
    return wrk


async def stop_flood(wrk: asyncio.subprocess.Process) -> float:
    """SIGINT (wrk then prints its totals); the requests per second it served."""
    wrk.send_signal(signal.SIGINT)
    stdout, _ = await asyncio.wait_for(wrk.communicate(), 30)
    found = re.search(r"Requests/sec:\s+([\d.]+)", stdout.decode())
    return float(found[1]) if found else 0.0


async def phase(
    clients: ClientFactory,
    bots: BotsProcess,
    visitor: Visitor,
    counsellor: Observer,
    args: argparse.Namespace,
    tag: str,
) -> tuple[list[float], list[float]]:
    starts = [await start_to_greeting(clients, bots) for _ in range(args.visitors)]
    messages = []
    for n in range(args.messages):
        body = f"{tag} bericht {n}"
        began = time.perf_counter()
        await visitor.observer.say(visitor.room, body)
        await counsellor.wait_for(lambda b=body: b in counsellor.bodies(visitor.room), within=60, what=body)  # type: ignore[misc]
        messages.append(time.perf_counter() - began)
    return starts, messages


async def main(args: argparse.Namespace) -> None:
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (Debian: apt-get install wrk)")
    folder = Path(tempfile.mkdtemp(prefix="keerpunt-isolation-"))
    synapse = await asyncio.to_thread(start_synapse, folder / "synapse")
    bots = BotsProcess(
        synapse,
        folder / "bots",
        SQLITE_DATABASE,
        extra={
            "bots": {
                "rate_limit": {
                    "per_client_per_hour": 100000,
                    "global_per_minute": 100000,
                    "restarts_per_client_per_hour": 100000,
                }
            }
        },
    )
    portal = None
    limit = CpuLimit(f"keerpunt-isolation-{os.getpid()}", args.cpu_limit, args.cpu_shares)
    clients = ClientFactory(synapse, folder)
    try:
        await bots.start()
        portal, url = start_portal(bots, folder, args.portal_workers, limit)
        db = await open_database(bots.config)
        counsellor = await add_counsellor(clients, bots.config, db)
        queue_room = await SystemRoomStore(db).get("queue")
        await db.stop()
        assert queue_room is not None
        session = await new_session(bots.api, "nl")
        user = await clients.visitor(session)
        await join(user, session["room_id"], bots.config.bot_user_id)
        visitor = Visitor(Observer(user), session, bots.config.bot_user_id)
        await speak_first(user, session["room_id"], "nl")
        await visitor.next_from_bot(0, count=2)
        await answer_all(visitor, ANSWERS)
        await counsellor.wait_for(lambda: counsellor.card(queue_room, visitor.number), what="the card")
        await counsellor.say(queue_room, f"!claim {visitor.number}")
        await counsellor.wait_for(lambda: visitor.room in counsellor.user.client.invited_rooms, what="the invite")
        await counsellor.join(visitor.room)

        # Quiet and flooded blocks alternate: the other engineers' load moves while this runs.
        quiet: tuple[list[float], list[float]] = ([], [])
        loaded: tuple[list[float], list[float]] = ([], [])
        flood_took = portal_cpu = wrk_cpu = 0.0
        served = 0.0
        for block in range(args.blocks):
            for side, series in ((quiet, "rustig"), (loaded, "vloed")):
                flood = await start_flood(url, args.connections) if side is loaded else None
                began = time.monotonic()
                cpu_before = cpu_seconds(portal.pid), cpu_seconds(flood.pid) if flood else 0.0
                starts, messages = await phase(clients, bots, visitor, counsellor, args, f"{series} {block}")
                side[0].extend(starts)
                side[1].extend(messages)
                if flood is not None:
                    took = time.monotonic() - began
                    flood_took += took
                    portal_cpu += cpu_seconds(portal.pid) - cpu_before[0]
                    wrk_cpu += cpu_seconds(flood.pid) - cpu_before[1]
                    served += await stop_flood(flood) * took
        portal_cores, wrk_cores = portal_cpu / flood_took, wrk_cpu / flood_took
        rps = f"{served / flood_took:.0f}"
        counts = f"{args.visitors * args.blocks} starts, {args.messages * args.blocks} messages"
        print(f"\nIsolation: {counts} per side in {args.blocks} blocks; portal workers {args.portal_workers}")
        print(f"portal limited by {limit.method}")
        print(f"{'':28}{'unloaded p50':>14}{'p95':>10}{'flooded p50':>14}{'p95':>10}{'p95 ratio':>11}")
        for name, a, b in (("start → greeting", quiet[0], loaded[0]), ("visitor → counsellor", quiet[1], loaded[1])):
            ratio = pct(b, 0.95) / pct(a, 0.95)
            cells = [ms(pct(a, 0.5)), ms(pct(a, 0.95)), ms(pct(b, 0.5)), ms(pct(b, 0.95))]
            print(f"{name:28}{cells[0]:>14}{cells[1]:>10}{cells[2]:>14}{cells[3]:>10}{ratio:>10.2f}x")
        print(f"wrk on {ARTICLE} with {args.connections} connections during {flood_took:.0f} s: {rps} req/s")
        print(
            f"CPU during the flood, in cores: portal {portal_cores:.2f} (limit {args.cpu_limit:g}), wrk {wrk_cores:.2f}"
        )
    finally:
        await clients.close()
        if portal is not None:
            portal.terminate()
            portal.wait(20)
        limit.remove()
        bots.terminate()
        synapse.stop()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--visitors", type=int, default=6, help="session starts per block and side")
    parser.add_argument("--messages", type=int, default=10, help="messages per block and side")
    parser.add_argument("--blocks", type=int, default=3, help="quiet and flooded blocks, alternating")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--portal-workers", type=int, default=1)
    cpus, shares = compose_limit(COMPOSE, "portal")
    parser.add_argument("--cpu-limit", type=float, default=cpus, help=f"the portal's CPUs (compose.yaml: {cpus:g})")
    parser.add_argument("--cpu-shares", type=int, default=shares, help=f"its CPU weight (compose.yaml: {shares})")
    asyncio.run(main(parser.parse_args()))
