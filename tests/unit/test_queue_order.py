"""Queue order and the waiting-time estimate (the command parser: tests/core/test_commands.py)."""

from __future__ import annotations

from bots.queue.order import Waiting, estimate_wait_minutes, ordered, positions


def test_urgent_cases_go_first_then_the_longest_waiting() -> None:
    cases = [Waiting("1", False, 100), Waiting("2", True, 300), Waiting("3", False, 50), Waiting("4", True, 200)]
    assert [c.case for c in ordered(cases)] == ["4", "2", "3", "1"]
    assert positions(cases) == {"4": 1, "2": 2, "3": 3, "1": 4}


def test_estimate_grows_with_position_and_shrinks_with_counsellors() -> None:
    history = [600.0, 1200.0, 900.0]  # median 15 minutes
    one = [estimate_wait_minutes(p, history, 1, 1200) for p in (1, 2, 3)]
    assert one == [10, 25, 40]
    assert estimate_wait_minutes(3, history, 3, 1200) == 10
    assert estimate_wait_minutes(0, history, 1, 1200) == 0


def test_estimate_without_history_uses_the_default_and_is_at_least_five_minutes() -> None:
    assert estimate_wait_minutes(1, [], 2, 1200) == 10
    assert estimate_wait_minutes(1, [30.0], 5, 1200) == 5
