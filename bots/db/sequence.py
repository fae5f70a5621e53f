"""A strictly increasing number per process (nanoseconds), to order rows written in a burst."""

from __future__ import annotations

import time

_last = 0


def next_seq() -> int:
    global _last  # noqa: PLW0603 - one process-wide counter is the point
    _last = max(_last + 1, time.time_ns())
    return _last
