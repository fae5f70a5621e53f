"""The partner directory: validated, filtered by region and kind, open-now aware."""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bots.partners.directory import parse_directory
from bots.triage import load_definition
from keerpunt.base.config import ConfigError
from tests.support.partners import DIRECTORY, config

TRIAGE = load_definition()
AMS = ZoneInfo("Europe/Amsterdam")


def test_partners_are_found_by_region_and_kind() -> None:
    directory = parse_directory(DIRECTORY, config(["partner.example.net"]), TRIAGE)
    assert [p.id for p in directory.find("utrecht")] == ["zorg-utrecht", "politie"]
    assert [p.id for p in directory.find("zeeland")] == ["politie"]
    assert [p.id for p in directory.find(None, "police")] == ["politie"]
    assert directory.partner_of("@agent:partner.example.net").id == "politie"  # type: ignore[union-attr]


def test_open_now_follows_the_partner_hours() -> None:
    directory = parse_directory(DIRECTORY, config(["partner.example.net"]), TRIAGE)
    zorg, politie = directory.partners
    monday_morning = datetime(2026, 11, 30, 10, 0, tzinfo=AMS)
    wednesday = datetime(2026, 12, 2, 10, 0, tzinfo=AMS)
    assert zorg.open_at(monday_morning) and not zorg.open_at(wednesday)
    assert politie.open_at(wednesday)


def test_an_intake_account_on_a_server_not_on_the_allowlist_is_refused() -> None:
    with pytest.raises(ConfigError) as info:
        parse_directory(DIRECTORY, config([]), TRIAGE)
    assert info.value.key == "partners.partners[1].intake[0]"
    assert "federation_allowlist" in str(info.value)


@pytest.mark.parametrize(
    ("path", "value", "key"),
    [
        (("kind",), "bakery", "partners.partners[0].kind"),
        (("regions",), ["atlantis"], "partners.partners[0].regions[0]"),
        (("description",), {"nl": "alleen nl"}, "partners.partners[0].description"),
        (("intake",), ["not-a-user"], "partners.partners[0].intake[0]"),
        (("hours",), {"someday": []}, "partners.partners[0].hours"),
        (("hours",), {"monday": ["9-5"]}, "partners.partners[0].hours.monday[0]"),
        (("colour",), "blue", "partners.partners[0].colour"),
    ],
)
def test_bad_entries_name_the_key(path: tuple[str, ...], value: Any, key: str) -> None:
    data = copy.deepcopy(DIRECTORY)
    data["partners"][0][path[0]] = value
    with pytest.raises(ConfigError) as info:
        parse_directory(data, config(["partner.example.net"]), TRIAGE)
    assert info.value.key == key


def test_duplicate_partner_ids_are_refused() -> None:
    data = copy.deepcopy(DIRECTORY)
    data["partners"][1]["id"] = "zorg-utrecht"
    with pytest.raises(ConfigError, match="duplicate"):
        parse_directory(data, config(["partner.example.net"]), TRIAGE)
