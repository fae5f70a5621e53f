"""Opening hours: weekdays, Dutch holidays, closed and special dates, daylight saving time."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from keerpunt.base.config import ConfigError, load_config
from keerpunt.base.config.model import HoursConfig
from keerpunt.base.hours import OpeningHours, around_the_clock, hours_in_force
from tests.support.config import example_config

AMS = ZoneInfo("Europe/Amsterdam")


def configured(**overrides: object) -> HoursConfig:
    """The example's hours as configured: applied in dev too (else dev keeps them open)."""
    return example_config({"hours": {"apply_in_dev": True}, **overrides}).hours


def hours(**changes: object) -> OpeningHours:
    base = configured()
    return OpeningHours(dataclasses.replace(base, **changes))  # type: ignore[arg-type]


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=AMS)  # type: ignore[misc]


def test_open_inside_weekday_hours_and_closed_outside() -> None:
    h = hours()
    assert h.is_open(at(2026, 12, 1, 9, 0))  # a Tuesday
    assert h.is_open(at(2026, 12, 1, 20, 59))
    assert not h.is_open(at(2026, 12, 1, 21, 0))
    assert not h.is_open(at(2026, 12, 1, 8, 59))


def test_next_opening_from_the_evening_is_the_next_morning() -> None:
    assert hours().next_opening(at(2026, 12, 1, 22, 30)) == at(2026, 12, 2, 9, 0)


def test_sunday_is_closed_by_default_so_saturday_night_waits_for_monday() -> None:
    assert hours().next_opening(at(2026, 12, 5, 19, 0)) == at(2026, 12, 7, 9, 0)


def test_christmas_and_boxing_day_are_closed() -> None:
    h = hours()
    assert not h.is_open(at(2026, 12, 25, 12, 0))
    assert h.next_opening(at(2026, 12, 24, 22, 0)) == at(2026, 12, 28, 9, 0)


def test_holidays_can_be_worked() -> None:
    assert hours(closed_on_public_holidays=False).is_open(at(2026, 12, 25, 12, 0))


def test_special_hours_win_over_holidays_and_closed_dates() -> None:
    h = hours(special_hours=("2026-12-25 14:00-16:00",), closed_dates=("2026-12-25",))
    assert not h.is_open(at(2026, 12, 25, 13, 59))
    assert h.is_open(at(2026, 12, 25, 14, 0))
    assert h.next_opening(at(2026, 12, 25, 10, 0)) == at(2026, 12, 25, 14, 0)


def test_closed_dates_close_a_normal_day() -> None:
    h = hours(closed_dates=("2026-12-01",))
    assert not h.is_open(at(2026, 12, 1, 12, 0))
    assert h.next_opening(at(2026, 12, 1, 12, 0)) == at(2026, 12, 2, 9, 0)


def test_utc_input_is_judged_in_amsterdam_time_across_dst() -> None:
    h = hours()
    # 08:30 UTC is 09:30 in winter (open) but 10:30 in summer; 07:30 UTC in summer is 09:30.
    assert h.is_open(datetime(2026, 12, 1, 8, 30, tzinfo=UTC))
    assert h.is_open(datetime(2026, 7, 1, 7, 30, tzinfo=UTC))
    assert not h.is_open(datetime(2026, 12, 1, 7, 30, tzinfo=UTC))


def test_until_midnight_and_closing_time() -> None:
    h = hours(friday=("18:00-24:00",))
    assert h.is_open(at(2026, 12, 4, 23, 59))
    assert h.closes_at(at(2026, 12, 4, 20, 0)) == at(2026, 12, 5, 0, 0)
    assert hours().closes_at(at(2026, 12, 1, 10, 0)) == at(2026, 12, 1, 21, 0)
    assert hours().closes_at(at(2026, 12, 1, 22, 0)) is None


def test_never_open_has_no_next_opening() -> None:
    closed = dict.fromkeys(("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"), ())
    assert hours(**closed).next_opening(at(2026, 12, 1, 12, 0)) is None


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        hours().is_open(datetime(2026, 12, 1, 12, 0))


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ({"monday": ("9-17",)}, "hours.monday[0]"),
        ({"tuesday": ("09:00-17:00", "18:00-17:00")}, "hours.tuesday[1]"),
        ({"wednesday": ("25:00-26:00",)}, "hours.wednesday[0]"),
        ({"closed_dates": ("2026-13-01",)}, "hours.closed_dates[0]"),
        ({"special_hours": ("2026-12-24",)}, "hours.special_hours[0]"),
        ({"timezone": "Mars/Olympus"}, "hours.timezone"),
    ],
)
def test_bad_hours_name_the_key(changes: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError) as info:
        hours(**changes)
    assert info.value.key == key


def test_hours_config_is_validated_when_loading(tmp_path: object) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "keerpunt.yaml"
    path.write_text("hours:\n  monday: ['late']\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.key == "hours.monday[0]"
    assert isinstance(load_config().hours, HoursConfig)


# `make dev` works at any hour: dev keeps the chat open unless hours.apply_in_dev is set.

SUNDAY_NIGHT = at(2026, 12, 6, 3, 0)  # closed in the example's hours (Sunday, and at night)
CHRISTMAS = at(2026, 12, 25, 12, 0)


def test_dev_mode_is_open_around_the_clock_by_default() -> None:
    config = load_config()
    assert config.mode == "dev" and config.hours.apply_in_dev is False
    h = OpeningHours(config.hours)
    assert h.is_open(SUNDAY_NIGHT) and h.is_open(CHRISTMAS)
    assert h.next_opening(SUNDAY_NIGHT) == SUNDAY_NIGHT
    assert around_the_clock(config.mode, config.hours)


def test_dev_mode_keeps_the_configured_hours_with_apply_in_dev() -> None:
    h = OpeningHours(configured())
    assert not h.is_open(SUNDAY_NIGHT) and not h.is_open(CHRISTMAS)
    assert h.next_opening(SUNDAY_NIGHT) == at(2026, 12, 7, 9, 0)


def test_production_always_applies_the_configured_hours() -> None:
    base = configured()
    for apply_in_dev in (False, True):
        configured_hours = dataclasses.replace(base, apply_in_dev=apply_in_dev)
        assert hours_in_force("production", configured_hours) == configured_hours
        assert not around_the_clock("production", configured_hours)
        assert not OpeningHours(hours_in_force("production", configured_hours)).is_open(SUNDAY_NIGHT)


def test_dev_around_the_clock_still_checks_the_configured_hours() -> None:
    with pytest.raises(ConfigError) as info:
        example_config({"hours": {"monday": ["late"]}})
    assert info.value.key == "hours.monday[0]"
