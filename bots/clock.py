"""The bots' time source, injectable so tests can move the clock (retention, rate limits)."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the epoch."""
        ...


class SystemClock:
    def now(self) -> float:
        return time.time()


def millis(clock: Clock) -> int:
    return int(clock.now() * 1000)
