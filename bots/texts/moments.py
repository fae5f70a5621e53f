"""Moments as people read them in a sentence: "vandaag om 14:30", "op maandag 4 mei om 09:00"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bots.texts import Language, text

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def from_millis(ms: int, zone: ZoneInfo) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).astimezone(zone)


def phrase(language: Language, moment: datetime, now: datetime) -> str:
    """``moment`` relative to ``now`` (both aware; read in ``moment``'s time zone)."""
    local_now = now.astimezone(moment.tzinfo)
    clock = moment.strftime("%H:%M")
    days = (moment.date() - local_now.date()).days
    if days == 0:
        return text(language, "when.today", time=clock)
    if days == 1:
        return text(language, "when.tomorrow", time=clock)
    if days == -1:
        return text(language, "when.yesterday", time=clock)
    return text(
        language,
        "when.day",
        weekday=text(language, f"when.weekday.{WEEKDAYS[moment.weekday()]}"),
        day=moment.day,
        month=text(language, f"when.month.{moment.month}"),
        time=clock,
    )


def minutes_between(start_ms: int, end_ms: int) -> int:
    """Whole minutes from ``start_ms`` to ``end_ms`` (never negative)."""
    return max(0, int(timedelta(milliseconds=end_ms - start_ms).total_seconds() // 60))
