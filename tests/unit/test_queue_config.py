"""The queue section: typed, documented, and wrong values name the key."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from keerpunt.base.config import ConfigError, example_text, load_config
from keerpunt.base.config.loader import build_config


def _example() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(example_text())
    return data


def test_the_shipped_queue_settings() -> None:
    queue = load_config().queue
    assert queue.outcomes == ("helped", "referred", "handover", "no-contact", "other")
    assert 0 < queue.urgent_reminder_minutes < queue.reminder_minutes
    assert queue.position_update_minutes == 2


@pytest.mark.parametrize(
    ("key", "value", "where"),
    [
        ("reminder_minutes", 0, "queue.reminder_minutes"),
        ("urgent_reminder_minutes", -1, "queue.urgent_reminder_minutes"),
        ("position_update_minutes", -0.5, "queue.position_update_minutes"),
        ("estimate_history", 0, "queue.estimate_history"),
        ("outcomes", [], "queue.outcomes"),
        ("outcomes", ["helped", "Helped!"], "queue.outcomes[1]"),
        ("outcomes", ["helped", "helped"], "queue.outcomes"),
        ("reminder_minutes", "soon", "queue.reminder_minutes"),
    ],
)
def test_a_wrong_queue_value_names_its_key(key: str, value: Any, where: str) -> None:
    data = _example()
    data["queue"][key] = value
    with pytest.raises(ConfigError) as info:
        build_config(data)
    assert info.value.key == where


def test_minutes_may_be_fractions_for_tests_and_drills() -> None:
    data = _example()
    data["queue"]["reminder_minutes"] = 0.25
    assert build_config(data).queue.reminder_minutes == 0.25
