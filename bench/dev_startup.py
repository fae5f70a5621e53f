"""Time from `keerpunt dev` to ready (cold and warm) and idle memory of the stack.

Usage: .venv/bin/python -m bench.dev_startup [--runs N]

Cold: a fresh data directory (secrets, Synapse database, accounts and rooms are created).
Warm: the same data directory again. Memory: resident set size (RSS) and proportional set
size (PSS, shared pages split fairly) of Synapse, the bots and the portal after 10 s idle.
Ports are free loopback ports, so it runs beside a running dev stack.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from tests.support.synapse import free_port

READY = "All accounts and room IDs"


def write_config(path: Path) -> None:
    s, a, p = free_port(), free_port(), free_port()
    hs, portal = f"http://127.0.0.1:{s}", f"http://127.0.0.1:{p}"
    path.write_text(
        yaml.safe_dump(
            {
                "homeserver": {"public_url": hs, "internal_url": hs},
                "synapse": {"port": s},
                "bots": {"api": {"port": a, "allowed_origins": [portal]}},
                "portal": {"port": p, "public_url": portal, "api_url": f"http://127.0.0.1:{a}"},
            }
        )
    )


def start(config: Path, data: Path) -> tuple[subprocess.Popen[str], float]:
    began = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "keerpunt", "--config", str(config), "--data-dir", str(data), "dev"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if READY in line:
            return proc, time.monotonic() - began
    raise RuntimeError("keerpunt dev exited before it was ready")


def stop(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    proc.wait(60)
    if proc.stdout:
        proc.stdout.close()


def children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True, check=False).stdout
    return [int(x) for x in out.split()]


def memory_kib(pid: int) -> tuple[int, int]:
    rss = pss = 0
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Rss:"):
            rss = int(line.split()[1])
        elif line.startswith("Pss:"):
            pss = int(line.split()[1])
    return rss, pss


def name_of(pid: int) -> str:
    cmd = Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ")
    if "synapse.app.homeserver" in cmd:
        return "synapse"
    return cmd.split()[-1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    cold, warm = [], []
    memory: dict[str, tuple[int, int]] = {}
    for run in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="keerpunt-bench-") as tmp:
            config, data = Path(tmp) / "keerpunt.yaml", Path(tmp) / "data"
            write_config(config)
            proc, seconds = start(config, data)
            cold.append(seconds)
            stop(proc)
            proc, seconds = start(config, data)
            warm.append(seconds)
            if run == 0:
                time.sleep(10)
                for pid in children(proc.pid):
                    memory[name_of(pid)] = memory_kib(pid)
            stop(proc)
    print(f"keerpunt dev to ready, {args.runs} runs (seconds):")
    print(f"  cold: median {statistics.median(cold):.2f}  min {min(cold):.2f}  max {max(cold):.2f}")
    print(f"  warm: median {statistics.median(warm):.2f}  min {min(warm):.2f}  max {max(warm):.2f}")
    print("idle memory after 10 s (MiB):")
    total_rss = total_pss = 0
    for name, (rss, pss) in sorted(memory.items()):
        print(f"  {name:8s} RSS {rss / 1024:6.1f}  PSS {pss / 1024:6.1f}")
        total_rss += rss
        total_pss += pss
    print(f"  {'total':8s} RSS {total_rss / 1024:6.1f}  PSS {total_pss / 1024:6.1f}")


if __name__ == "__main__":
    main()
