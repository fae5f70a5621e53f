"""Every shift action counted: (day, ``staff_actions``, action) and nothing else, no name."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bots.db import Stores

MEASURE = "staff_actions"


def day_of(now: int, zone: ZoneInfo) -> str:
    return datetime.fromtimestamp(now / 1000, tz=UTC).astimezone(zone).date().isoformat()


async def count_action(stores: Stores, zone: ZoneInfo, now: int, action: str, *, measure: str = MEASURE) -> None:
    """Inside the caller's transaction, so an action is counted once, with what it did."""
    await stores.stats.add(day_of(now, zone), measure, action)
