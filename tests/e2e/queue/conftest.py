"""The queue's bots: reminders far away unless a test moves the clock, outcomes as shipped."""

from __future__ import annotations

from typing import Any

import pytest

QUEUE = {"queue": {"reminder_minutes": 30, "urgent_reminder_minutes": 5}}


@pytest.fixture(scope="module")
def bots_extra() -> dict[str, Any]:
    """Config on top of the test config; a test may parametrize this (it then needs fresh bots)."""
    return QUEUE
