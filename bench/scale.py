"""One Synapse process against Synapse's workers, side by side, on this machine (issue 16).

Usage: .venv/bin/python -m bench.scale [--visitors 50,200] [--procs 5]

The same visitor load as ``bench.triage`` (cross-signed nio visitors in ``--procs`` processes:
start a session, join, speak first, then all answer the whole triage at once) against:

- **single**: one Synapse process on PostgreSQL and the bots on PostgreSQL (``start_synapse`` +
  ``TimedBots``), the visitors talking to Synapse directly;
- **workers**: ``keerpunt dev --workers`` (main, sync1, client1, persister1, streams1,
  background1 on PostgreSQL and Redis, Debian's caddy routing by keerpunt/base/routing.py, the bots,
  the portal), the visitors talking to the public router.

For each topology and each visitor count: sessions started per second (visitors / time until
the last one has its first question), p50/p95 from an answer to the bot's next question, and
the memory (RSS) of every process after the run. Both stacks get the same raised rate limits
(the bench measures capacity, not abuse control).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bench.common import ms, pct
from bench.triage import BOTS, ORIGIN, Result, run_visitors
from keerpunt.base.config import load_config
from keerpunt.devworkers import EFFECTIVE_CONFIG
from tests.support.bots import TimedBots
from tests.support.devstack import DevStack
from tests.support.synapse import (
    ALWAYS_OPEN,
    create_postgres_database,
    drop_postgres_database,
    free_port,
    free_port_block,
    start_synapse,
)

POSTGRES = os.environ.get("KEERPUNT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
LIMITS = {"per_client_per_hour": 1_000_000, "global_per_minute": 1_000_000, "restarts_per_client_per_hour": 1_000_000}


@dataclass
class Target:
    """What the visitor processes need (``bench.triage.run_visitors``): the API and the bot."""

    api: str
    user_id: str


@dataclass
class Row:
    topology: str
    visitors: int
    completed: int
    sessions_per_second: float
    p50: float
    p95: float
    memory: dict[str, int]


def rss_kib(pid: int) -> int:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def pids_matching(pattern: str) -> list[int]:
    found = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True, check=False)
    return [int(p) for p in found.stdout.split()]


def measure(name: str, target: Target, tmp: Path, counts: list[int], procs: int, memory: Any) -> list[Row]:
    rows = []
    for count in counts:
        results: list[Result]
        results, _ = run_visitors(target, tmp / f"{name}-{count}", count, procs, 7, True)  # type: ignore[arg-type]
        ok = [r for r in results if r.error is None]
        samples = [s for r in ok for _, s in r.samples]
        slowest_setup = max((r.setup for r in ok), default=float("nan"))
        rate = len(ok) / slowest_setup if ok else 0.0
        rows.append(
            Row(name, count, len(ok), rate, pct(samples, 0.5), pct(samples, 0.95), memory())
        )  # fmt: skip
        for error in sorted({r.error for r in results if r.error}):
            print(f"  {name} {count}: FAILED {error}", flush=True)
    return rows


def single(tmp: Path, counts: list[int], procs: int) -> list[Row]:
    synapse = start_synapse(tmp / "synapse", postgres_admin_url=POSTGRES, real_password_hashing=True)
    bots_db = create_postgres_database(POSTGRES, "keerpunt_bench_bots")
    extra = {**BOTS, "bots": {**BOTS["bots"], "rate_limit": LIMITS}}
    bots = TimedBots(synapse, tmp / "bots", bots_db, extra)
    try:
        bots.start()

        def memory() -> dict[str, int]:
            pid = synapse.process.pid if synapse.process else 0
            return {"synapse (one process)": rss_kib(pid), "bots": rss_kib(bots.proc.pid or 0)}

        return measure("single", Target(bots.api, bots.user_id), tmp, counts, procs, memory)
    finally:
        bots.stop()
        synapse.stop()
        for url in (synapse.database_url, bots_db):
            if url:
                drop_postgres_database(POSTGRES, url)


def workers(tmp: Path, counts: list[int], procs: int) -> list[Row]:
    config = tmp / "workers.yaml"
    hs, api = f"http://127.0.0.1:{free_port()}", free_port()
    base = free_port_block(20)
    config.write_text(
        yaml.safe_dump(
            {
                "homeserver": {"public_url": hs, "internal_url": hs},
                "synapse": {"port": free_port(), "workers": {"base_port": base}},
                "bots": {
                    "api": {"port": api, "allowed_origins": [ORIGIN]},
                    "rate_limit": LIMITS,
                    "challenge": {"enabled": False},
                },
                "portal": {"port": free_port(), "api_url": f"http://127.0.0.1:{api}"},
                "hours": ALWAYS_OPEN,
            }
        )
    )
    data = tmp / "workers-data"
    stack = DevStack(config, data, "--workers")
    stack.start(timeout=300)
    try:
        info = stack.stack()
        bot = load_config(data / EFFECTIVE_CONFIG, data_dir=str(data)).bot_user_id

        def memory() -> dict[str, int]:
            out = {}
            for worker_file in sorted((data / "synapse" / "workers").glob("*.yaml")):
                if worker_file.name.endswith("log.yaml"):
                    continue
                found = pids_matching(str(worker_file))
                if found:
                    out[f"synapse {worker_file.stem}"] = rss_kib(found[0])
            main = pids_matching(str(data / "synapse" / "homeserver.yaml"))
            if main:
                out["synapse main"] = rss_kib(main[0])
            for name in ("bots", "portal"):
                found = [p for p in pids_matching(f"run {name}") if str(data) in Path(f"/proc/{p}/cmdline").read_text()]
                if found:
                    out[name] = rss_kib(found[0])
            caddy = pids_matching(str(data))
            out["caddy"] = sum(rss_kib(p) for p in caddy if "caddy" in Path(f"/proc/{p}/cmdline").read_text())
            return out

        return measure("workers", Target(info["api"], bot), tmp, counts, procs, memory)
    finally:
        stack.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--visitors", default="50,200", help="comma-separated visitor counts (default 50,200)")
    parser.add_argument("--procs", type=int, default=5)
    parser.add_argument("--only", choices=["single", "workers"])
    parser.add_argument("--keep", action="store_true", help="keep the data dirs and logs (printed at the end)")
    args = parser.parse_args()
    counts = [int(c) for c in args.visitors.split(",")]
    tmp = Path(tempfile.mkdtemp(prefix="keerpunt-bench-scale-"))
    rows: list[Row] = []
    try:
        if args.only in (None, "single"):
            print("single process …", flush=True)
            rows += single(tmp, counts, args.procs)
        if args.only in (None, "workers"):
            print("workers …", flush=True)
            rows += workers(tmp, counts, args.procs)
    finally:
        if args.keep:
            print(f"data dirs and logs kept in {tmp}", flush=True)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"\n{'topology':10}{'visitors':>9}{'done':>6}{'sessions/s':>12}{'answer p50':>13}{'p95':>11}")
    for row in rows:
        print(
            f"{row.topology:10}{row.visitors:>9}{row.completed:>6}{row.sessions_per_second:>12.1f}"
            f"{ms(row.p50):>13}{ms(row.p95):>11}"
        )
    for row in rows:
        total = sum(row.memory.values()) // 1024
        parts = ", ".join(f"{name} {kib // 1024} MiB" for name, kib in row.memory.items())
        print(f"memory after {row.topology} {row.visitors}: {total} MiB ({parts})")
    return 0 if all(r.completed == r.visitors for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
