"""Opening hours of the chat: weekly ranges, Dutch public holidays, closed and special dates.

Shared by the bots (the session API's ``open``/``opens_at`` and the bot's "we are closed"
answer) and the portal (hours on the start screen and contact page).

In ``mode: dev`` the chat is open around the clock unless ``hours.apply_in_dev`` is true
(``hours_in_force``): the config loader puts those hours in ``Config.hours``, so every reader
of the config (bots, session API, portal) follows the same rule.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

from keerpunt.base.config.errors import ConfigError
from keerpunt.base.config.model import HoursConfig, Mode

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
RANGE_RE = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")
SEARCH_DAYS = 400


@dataclass(frozen=True)
class Range:
    start: time
    end: time | None  # None: until midnight (24:00)

    def contains(self, moment: time) -> bool:
        return self.start <= moment and (self.end is None or moment < self.end)


def _parse_time(hours: str, minutes: str, key: str, *, end: bool) -> time | None:
    h, m = int(hours), int(minutes)
    if end and (h, m) == (24, 0):
        return None
    if h > 23 or m > 59:
        raise ConfigError(key, f"{hours}:{minutes} is not a time of day")
    return time(h, m)


def parse_range(text: str, key: str) -> Range:
    match = RANGE_RE.match(text.strip())
    if not match:
        raise ConfigError(key, f"expected a range like 09:00-21:00, got {text!r}")
    start = _parse_time(match[1], match[2], key, end=False)
    end = _parse_time(match[3], match[4], key, end=True)
    assert start is not None
    if end is not None and end <= start:
        raise ConfigError(key, f"{text!r} ends before it starts (ranges cannot cross midnight)")
    return Range(start, end)


def _parse_date(text: str, key: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ConfigError(key, f"expected a date like 2026-12-24, got {text!r}") from None


AROUND_THE_CLOCK = ("00:00-24:00",)


def around_the_clock(mode: Mode, hours: HoursConfig) -> bool:
    """True when the configured hours are not applied: dev mode without ``hours.apply_in_dev``."""
    return mode == "dev" and not hours.apply_in_dev


def hours_in_force(mode: Mode, hours: HoursConfig) -> HoursConfig:
    """The hours the chat keeps: as configured, or open day and night (``around_the_clock``).

    The timezone and ``apply_in_dev`` stay, so ``around_the_clock`` still answers the same.
    """
    if not around_the_clock(mode, hours):
        return hours
    day = AROUND_THE_CLOCK
    return dataclasses.replace(
        hours,
        monday=day,
        tuesday=day,
        wednesday=day,
        thursday=day,
        friday=day,
        saturday=day,
        sunday=day,
        closed_on_public_holidays=False,
        closed_dates=(),
        special_hours=(),
    )


class OpeningHours:
    def __init__(self, config: HoursConfig) -> None:
        try:
            self.zone = ZoneInfo(config.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError("hours.timezone", f"unknown time zone {config.timezone!r}") from None
        self.weekly: list[list[Range]] = [
            [parse_range(r, f"hours.{day}[{i}]") for i, r in enumerate(getattr(config, day))] for day in WEEKDAYS
        ]
        self.closed_dates = {_parse_date(d, f"hours.closed_dates[{i}]") for i, d in enumerate(config.closed_dates)}
        self.special: dict[date, list[Range]] = {}
        for i, entry in enumerate(config.special_hours):
            key = f"hours.special_hours[{i}]"
            day, _, span = entry.strip().partition(" ")
            self.special.setdefault(_parse_date(day, key), []).append(parse_range(span, key))
        self.public_holidays = config.closed_on_public_holidays
        self._holidays = holidays.country_holidays("NL")

    def ranges_on(self, day: date) -> list[Range]:
        if day in self.special:
            return sorted(self.special[day], key=lambda r: r.start)
        if day in self.closed_dates or (self.public_holidays and day in self._holidays):
            return []
        return self.weekly[day.weekday()]

    def local(self, now: datetime) -> datetime:
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        return now.astimezone(self.zone)

    def is_open(self, now: datetime) -> bool:
        local = self.local(now)
        return any(r.contains(local.time().replace(tzinfo=None)) for r in self.ranges_on(local.date()))

    def next_opening(self, now: datetime) -> datetime | None:
        """The next moment the chat opens, strictly after ``now`` when it is closed now.

        Returns ``now`` (in local time) when the chat is open, None when it never opens
        within a year (all days closed).
        """
        local = self.local(now)
        if self.is_open(now):
            return local
        for offset in range(SEARCH_DAYS):
            day = local.date() + timedelta(days=offset)
            for r in self.ranges_on(day):
                start = datetime.combine(day, r.start, tzinfo=self.zone)
                if start > local:
                    return start
        return None

    def closes_at(self, now: datetime) -> datetime | None:
        """When the current opening ends (None when closed now)."""
        local = self.local(now)
        for r in self.ranges_on(local.date()):
            if r.contains(local.time().replace(tzinfo=None)):
                if r.end is None:
                    return datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=self.zone)
                return datetime.combine(local.date(), r.end, tzinfo=self.zone)
        return None
