"""A process under the CPU limit compose gives a service, without a container engine.

compose.yaml's ``cpus`` is a CFS quota (``cpus`` times the period per period) and ``cpu_shares``
the service's weight against the others when the machine is busy. Here the same two knobs are
set on a cgroup of the process's own, made under the cpu controller: cgroup v2's ``cpu.max``
and ``cpu.weight`` when the unified hierarchy has it, else cgroup v1's ``cpu.cfs_quota_us``
and ``cpu.shares``. Where neither can be written (no root, read-only cgroupfs) the fallback is
``taskset`` to ``ceil(cpus)`` cores and ``nice 10``: a pinning and a lower priority, not a
quota — :attr:`CpuLimit.method` says which one was used, and the bench prints it.

The process is put into the cgroup before it runs (``preexec_fn``), so that every process it
starts (the portal's workers) is limited with it.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Callable
from pathlib import Path

import yaml

ROOT = Path("/sys/fs/cgroup")
PERIOD_US = 100_000
DEFAULT_SHARES = 1024


def compose_limit(compose: Path, service: str) -> tuple[float, int]:
    """``cpus`` and ``cpu_shares`` of ``service`` in a compose file (the machine's cores, 1024 if unset)."""
    spec = yaml.safe_load(compose.read_text())["services"][service]
    return float(spec.get("cpus", os.cpu_count() or 1)), int(spec.get("cpu_shares", DEFAULT_SHARES))


class CpuLimit:
    def __init__(self, name: str, cpus: float, shares: int = DEFAULT_SHARES) -> None:
        self.cpus, self.shares = cpus, shares
        self.group: Path | None = None
        self.method = "none"
        quota = max(1000, round(cpus * PERIOD_US))
        v2, v1 = ROOT / name, ROOT / "cpu" / name
        try:
            if "cpu" in (ROOT / "cgroup.controllers").read_text().split():
                v2.mkdir()
                self.group = v2
                (v2 / "cpu.max").write_text(f"{quota} {PERIOD_US}")
                # systemd's conversion of cgroup v1 shares to v2 weights (1024 → 100).
                (v2 / "cpu.weight").write_text(str(max(1, min(10_000, 1 + (shares - 2) * 9999 // 262_142))))
                self.method = f"cgroup v2 {v2}: cpu.max {quota} {PERIOD_US}"
        except OSError:
            self.remove()
        if self.group is None:
            try:
                v1.mkdir()
                self.group = v1
                (v1 / "cpu.cfs_period_us").write_text(str(PERIOD_US))
                (v1 / "cpu.cfs_quota_us").write_text(str(quota))
                (v1 / "cpu.shares").write_text(str(shares))
                self.method = f"cgroup v1 {v1}: cfs_quota_us {quota} per {PERIOD_US}, shares {shares}"
            except OSError:
                self.remove()
        if self.group is None:
            cores = sorted(os.sched_getaffinity(0))[: max(1, math.ceil(cpus))]
            self.cores = set(cores)
            self.method = f"fallback, no quota: taskset {','.join(map(str, cores))} and nice 10"

    def preexec(self) -> Callable[[], None]:
        """For ``subprocess.Popen(preexec_fn=…)``: the child enters the limit before it runs."""
        group = self.group

        def enter() -> None:
            if group is not None:
                (group / "cgroup.procs").write_text(str(os.getpid()))
            else:
                os.sched_setaffinity(0, self.cores)
                os.nice(10)

        return enter

    def remove(self) -> None:
        """Remove the cgroup (after its processes ended); nothing to undo for the fallback."""
        if self.group is not None:
            with contextlib.suppress(OSError):
                self.group.rmdir()
            self.group = None
