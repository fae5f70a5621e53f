"""Fixtures for the queue: the bots in-process (with a clock the test moves) and their staff."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from keerpunt.testing import SynapseProcess

from ..bots.conftest import bots_database  # noqa: F401 - the fixture, shared with issue 3's tests
from ..bots.harness import InProcessBots, bots_config

pytestmark = pytest.mark.integration

# Reminders far away unless a test moves the clock; outcomes as shipped.
QUEUE = {"queue": {"reminder_minutes": 30, "urgent_reminder_minutes": 5}}


@pytest.fixture
def queue_extra() -> dict[str, Any]:
    """Config on top of the test config; a test module may override this fixture."""
    return QUEUE


@pytest.fixture
async def bots(
    synapse: SynapseProcess,
    tmp_path: Path,
    bots_database: str,  # noqa: F811 - the imported fixture, requested by name
    queue_extra: dict[str, Any],
) -> AsyncIterator[InProcessBots]:
    harness = InProcessBots(bots_config(synapse, tmp_path / "data", bots_database, queue_extra))
    await harness.start()
    yield harness
    await harness.stop()
