"""When to tell a waiting visitor their new place in the queue. Pure.

A change of place is told at most once per ``min_interval_ms``, except the step to the
front ("you are next"), which is told at once. Unchanged places are never repeated. A
change held back is told by a later check once the interval has passed.
"""

from __future__ import annotations


def position_update_due(
    *,
    position: int,
    told_position: int | None,
    told_at: int | None,
    now: int,
    min_interval_ms: int,
) -> bool:
    if position == told_position:
        return False
    if position == 1 or told_position is None or told_at is None:
        return True
    return now - told_at >= min_interval_ms
