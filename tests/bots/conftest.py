"""Unit-test fixtures for the bots: their own database on SQLite and, when configured, PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bots.db import Database, create_database
from keerpunt.config import load_config


@pytest.fixture(scope="module")
async def db(bots_database_url: str) -> AsyncIterator[Database]:
    database = create_database(load_config(), bots_database_url)
    await database.start()
    yield database
    await database.stop()
