"""What the benchmarks share: percentiles, durations and CPU time of a process."""

from __future__ import annotations

import os
from pathlib import Path


def pct(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``values`` by nearest rank; NaN when there are none."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:7.0f} ms"


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU time of a process and its children so far, from /proc (Linux)."""
    if pid is None:
        return 0.0
    total = 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                total += cpu_seconds(int(child))
    except OSError:
        pass
    return total


def ratio_line(name: str, measured: list[float], floor: list[float]) -> str:
    """``measured``'s p95 beside ``floor``'s (both in seconds) and their ratio, p50s after."""
    high, low = pct(measured, 0.95), pct(floor, 0.95)
    return (
        f"   {name:<26} p95 {ms(high)} vs floor {ms(low)}: {high / low if low else float('nan'):.2f}x"
        f"   (p50 {ms(pct(measured, 0.5))} vs {ms(pct(floor, 0.5))})"
    )
