"""Moments in a sentence, relative to now, in the chat's time zone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bots.texts.moments import minutes_between, phrase

ZONE = ZoneInfo("Europe/Amsterdam")
NOW = datetime(2026, 5, 4, 22, 30, tzinfo=ZONE)  # a Monday


def test_today_tomorrow_yesterday_and_other_days() -> None:
    assert phrase("nl", datetime(2026, 5, 4, 23, 0, tzinfo=ZONE), NOW) == "vandaag om 23:00"
    assert phrase("nl", datetime(2026, 5, 5, 9, 0, tzinfo=ZONE), NOW) == "morgen om 09:00"
    assert phrase("en", datetime(2026, 5, 3, 9, 0, tzinfo=ZONE), NOW) == "yesterday at 09:00"
    assert phrase("nl", datetime(2026, 5, 9, 12, 0, tzinfo=ZONE), NOW) == "op zaterdag 9 mei om 12:00"
    assert phrase("en", datetime(2026, 12, 28, 9, 0, tzinfo=ZONE), NOW) == "on Monday 28 December at 09:00"


def test_the_day_is_read_in_the_moments_zone() -> None:
    utc_now = datetime(2026, 5, 4, 22, 30, tzinfo=ZoneInfo("UTC"))  # already the 5th in Amsterdam
    assert phrase("en", datetime(2026, 5, 5, 9, 0, tzinfo=ZONE), utc_now) == "today at 09:00"


def test_minutes_between_never_goes_negative() -> None:
    assert minutes_between(0, 125_000) == 2
    assert minutes_between(10_000, 0) == 0
