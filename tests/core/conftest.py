"""The core layer: the bots' rules without a homeserver (see harness.py). Milliseconds a test.

Each test gets the bot assembled the way production does it, over a fresh database: SQLite
always, and PostgreSQL too when ``KEERPUNT_TEST_POSTGRES_URL`` is set (the stores' SQL must
behave the same on both).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from bots.db import create_database
from keerpunt.testing import create_postgres_database, drop_postgres_database, make_test_config

from ..conftest import POSTGRES_URL, backends
from .harness import CoreBot, FakeClock


@pytest.fixture(params=backends())
def core_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh bots database for one test."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'bots.db'}"
        return
    url = create_postgres_database(POSTGRES_URL, "keerpunt_core")
    yield url
    drop_postgres_database(POSTGRES_URL, url)


@pytest.fixture
def core_config() -> dict[str, Any]:
    """Config on top of the test config; a test module may override this fixture."""
    return {"queue": {"reminder_minutes": 30, "urgent_reminder_minutes": 5}}


@pytest.fixture
async def core(tmp_path: Path, core_config: dict[str, Any], core_database: str) -> AsyncIterator[CoreBot]:
    config = make_test_config(tmp_path / "data", core_config)
    db = create_database(config, core_database)
    await db.start()
    bot = CoreBot(config, db, FakeClock())
    try:
        await bot.start()
        yield bot
    finally:
        await db.stop()
