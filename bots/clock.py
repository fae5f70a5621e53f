"""The bots' time source, injectable so tests can move the clock (retention, timeouts, back-off).

Domain code and workers take both kinds of time from here and never from ``time`` directly:
``now`` (wall-clock seconds, stored and compared with stored times) and ``monotonic`` (for
waits and back-off that must not jump with the wall clock).
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the epoch."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back (for waits and back-off)."""
        ...


class SystemClock:
    def now(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()


def millis(clock: Clock) -> int:
    return int(clock.now() * 1000)
