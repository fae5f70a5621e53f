"""Outside opening hours the session API says when the chat opens and creates nothing (what the
bot says in the room when the chat closes: tests/core/test_queue.py)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bots.db.case import CaseStore
from tests.support.bots import InProcessBots
from tests.support.visitor import post_session

from .conftest import QUEUE

pytestmark = pytest.mark.integration

ZONE = ZoneInfo("Europe/Amsterdam")
# Taken when the file is collected; the test may run after midnight (a run takes many minutes),
# so the bots are closed on this day and the next, and open again at the start of the day after.
TODAY = datetime.now(ZONE).date()


def closed_on(*days: date) -> dict[str, Any]:
    """Open around the clock, except all of ``days``."""
    return {**QUEUE, "hours": {"closed_dates": [day.isoformat() for day in days], "apply_in_dev": True}}


def midnight(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=ZONE)


@pytest.mark.fresh_bots("hours of its own")
@pytest.mark.parametrize("bots_extra", [closed_on(TODAY, TODAY + timedelta(days=1))])
async def test_the_session_api_says_closed_with_the_next_opening_and_creates_nothing(bots: InProcessBots) -> None:
    status, body, _ = await post_session(bots.api, {"language": "nl", "entry": "widget"})
    assert status == 200
    reopens = midnight(TODAY + timedelta(days=2))
    assert body == {"open": False, "opens_at": reopens.isoformat(timespec="seconds")}
    assert datetime.fromisoformat(body["opens_at"]) == reopens
    assert await CaseStore(bots.db).count() == 0
    # Bad input is still bad input.
    status, body, _ = await post_session(bots.api, {"language": "xx", "entry": "widget"})
    assert status == 400
