"""Faults under load (issue 27): live conversations while every process in turn is killed.

Usage: .venv/bin/python -m bench.faults [--visitors 50] [--counsellors 0] [--pause 60]
       [--pace 5 20] [--faults bots,main,...] [--out DIR]

On `keerpunt dev --workers` with a PostgreSQL cluster and a Redis of its own (never the
machine's shared ones): ``--visitors`` cross-signed nio visitors start throughout the run (a
third before the first fault), go through triage, are claimed by ``--counsellors`` (default
one per two visitors) and talk with them, a message every ``--pace`` seconds each way; a
quarter end the chat half-way (closed, purged). One fault every ``--pause`` seconds: the bots
(SIGKILL), Synapse's main process (SIGKILL), each worker (SIGKILL), PostgreSQL (fast shutdown,
start), Redis (stop, start), Caddy, the portal (SIGKILL), then the bots and streams1 together;
`keerpunt dev --workers` starts each killed child again, as compose's restart policy would.

Counted by content id, per fault (the window from one fault to the next) and in total:
messages sent and decrypted by the other side, lost, doubled, never accepted by the server
after three minutes of retries, undecryptable a minute after the last send, session starts
retried and failed, impossible case states at the end, and how long after the fault each side
first decrypted a message sent after it. Writes faults.md and faults.json to ``--out`` and
exits 1 when anything is lost, doubled, unreadable, unsent, or a start or a case state failed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from .infra import missing
from .report import as_json, markdown
from .schedule import FAULTS, Options, run


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench.faults", description=__doc__.splitlines()[0])
    parser.add_argument("--visitors", type=int, default=50)
    parser.add_argument("--counsellors", type=int, default=0)
    parser.add_argument("--pause", type=float, default=60.0, help="seconds from one fault to the next")
    parser.add_argument("--pace", type=float, nargs=2, default=(5.0, 20.0), metavar=("MIN", "MAX"))
    parser.add_argument("--faults", default=",".join(FAULTS), help="comma-separated, in order")
    parser.add_argument("--out", type=Path, default=Path("."))
    return parser.parse_args(argv)


def _keep_logs(folder: Path, into: Path) -> None:
    """The stack's logs (its data directory goes with the run) for reading after a failure."""
    for log in [
        *folder.glob("*.log"),
        *(folder / "data" / "logs").glob("*"),
        *(folder / "data" / "synapse").glob("*.log"),
        *(folder / "data" / "synapse" / "workers").glob("*.log"),
    ]:
        into.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(log, into / log.name)


def main(argv: list[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("nio").setLevel(os.environ.get("BENCH_NIO_LOG", "ERROR"))  # its retries are expected here
    lacking = missing()
    if lacking:
        print("bench.faults needs: " + "; ".join(lacking), file=sys.stderr)
        return 2
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="keerpunt-faults-") as tmp:
        opts = Options(
            Path(tmp),
            visitors=args.visitors,
            counsellors=args.counsellors,
            pause=args.pause,
            pace=tuple(args.pace),
            faults=tuple(f for f in args.faults.split(",") if f),
        )
        try:
            ledger = asyncio.run(run(opts))
        finally:
            _keep_logs(Path(tmp), args.out / "logs")
    meta = {
        "visitors": args.visitors,
        "pause_s": args.pause,
        "pace_s": list(args.pace),
        "wall_s": round(time.monotonic() - began),
        "loadavg": Path("/proc/loadavg").read_text().split()[:3],
    }
    report = as_json(ledger, meta)
    table = markdown(ledger)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "faults.json").write_text(json.dumps(report, indent=2))
    (args.out / "faults.md").write_text(table + "\n")
    print(table)
    print(f"\n{args.visitors} visitors, {meta['wall_s']} s, load average {' '.join(meta['loadavg'])}")
    return 0 if report["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
