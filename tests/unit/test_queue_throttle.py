"""A waiting visitor hears about a new place at most every few minutes, "you are next" at once."""

from __future__ import annotations

import pytest

from bots.queue.throttle import position_update_due

MINUTE = 60_000


@pytest.mark.parametrize(
    ("position", "told", "told_at", "now", "due"),
    [
        (3, None, None, 0, True),  # never told: tell
        (3, 3, 0, 10 * MINUTE, False),  # unchanged: never repeat
        (2, 3, 0, 1 * MINUTE, False),  # better, but too soon
        (2, 3, 0, 2 * MINUTE, True),  # better, interval passed
        (4, 3, 0, 1 * MINUTE, False),  # worse (an urgent case came in), too soon
        (4, 3, 0, 3 * MINUTE, True),  # worse, interval passed
        (1, 2, 0, 1, True),  # next: at once
        (1, 1, 0, 10 * MINUTE, False),  # still next: no repeat
    ],
)
def test_position_updates_are_throttled(
    position: int, told: int | None, told_at: int | None, now: int, due: bool
) -> None:
    assert (
        position_update_due(position=position, told_position=told, told_at=told_at, now=now, min_interval_ms=2 * MINUTE)
        is due
    )
