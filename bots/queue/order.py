"""Queue order and waiting-time estimate. Pure: the caller passes cases and history.

Order: live chats before messages left to be answered later; within each, urgent cases first,
then by how long they have waited. The estimate uses the median
of recent handling times (claim to close) divided over the counsellors on duty; with no
history it falls back to a configured default. Positions are 1-based.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Waiting:
    case: str
    urgent: bool
    waiting_since: float  # unix seconds
    # A message left to be answered later (docs/write-later.md): after every live chat.
    later: bool = False

    @property
    def sort_key(self) -> tuple[int, int, float, str]:
        return (1 if self.later else 0, 0 if self.urgent else 1, self.waiting_since, self.case)


def ordered(cases: Iterable[Waiting]) -> list[Waiting]:
    return sorted(cases, key=lambda c: c.sort_key)


def positions(cases: Iterable[Waiting]) -> dict[str, int]:
    return {c.case: i for i, c in enumerate(ordered(cases), start=1)}


def estimate_wait_minutes(
    position: int,
    recent_handling_seconds: Sequence[float],
    counsellors_on_duty: int,
    default_handling_seconds: float,
) -> int:
    """Rough minutes until a counsellor picks up the case at ``position``.

    With N counsellors, position p waits ceil(p / N) rounds of the median handling time, the
    first only half. Rounded up to 5 minutes (at least 5) so the number does not jump every
    minute and never promises "now".
    """
    if position <= 0:
        return 0
    per_case = statistics.median(recent_handling_seconds) if recent_handling_seconds else default_handling_seconds
    rounds = math.ceil(position / max(counsellors_on_duty, 1))
    # Busy counsellors are on average half-way through their current chat.
    seconds = (rounds - 0.5) * per_case
    return max(5, math.ceil(seconds / 300) * 5)
