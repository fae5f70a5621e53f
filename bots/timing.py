"""A tiny in-memory timing registry for the bots' calls to Synapse.

Every Synapse call the bots make is recorded under a short name (``createRoom``,
``register``, ``RoomSendResponse`` …) as a count, a total and a bounded sample, so the
benchmark can show where the time of a session start goes. Nothing here is persisted,
and no argument of a call (user, room, address) is kept.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

SAMPLE_SIZE = 2000


@dataclass
class CallStats:
    count: int = 0
    total: float = 0.0
    samples: list[float] = field(default_factory=list)

    def add(self, seconds: float) -> None:
        self.count += 1
        self.total += seconds
        if len(self.samples) < SAMPLE_SIZE:
            self.samples.append(seconds)
        else:  # reservoir sampling keeps memory bounded
            slot = random.randrange(self.count)  # noqa: S311 - sampling, not security
            if slot < SAMPLE_SIZE:
                self.samples[slot] = seconds


class Timings:
    def __init__(self) -> None:
        self._stats: dict[str, CallStats] = {}
        self._lock = threading.Lock()

    def record(self, name: str, seconds: float) -> None:
        with self._lock:
            self._stats.setdefault(name, CallStats()).add(seconds)

    @contextmanager
    def measure(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.record(name, time.perf_counter() - started)

    def snapshot(self) -> dict[str, dict[str, float]]:
        with self._lock:
            return {
                name: {"count": s.count, "total": s.total, "mean": s.total / s.count if s.count else 0.0}
                for name, s in self._stats.items()
            }

    def reset(self) -> None:
        with self._lock:
            self._stats.clear()


TIMINGS = Timings()
