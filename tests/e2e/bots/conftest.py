"""Fixtures for the bots against the real test Synapse (see harness.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from keerpunt.testing import SynapseProcess, create_postgres_database, drop_postgres_database

from ...conftest import POSTGRES_URL
from .harness import InProcessBots, bots_config

pytestmark = pytest.mark.integration


@pytest.fixture
def bots_database(synapse: SynapseProcess) -> Iterator[str]:
    """A fresh bots database on the same kind of backend as the Synapse under test."""
    if synapse.backend != "postgres":
        yield "sqlite:bots/bots.db"
        return
    url = create_postgres_database(POSTGRES_URL, "keerpunt_bots")
    yield url
    drop_postgres_database(POSTGRES_URL, url)


@pytest.fixture
async def bots(synapse: SynapseProcess, tmp_path: Path, bots_database: str) -> AsyncIterator[InProcessBots]:
    harness = InProcessBots(bots_config(synapse, tmp_path / "data", bots_database))
    await harness.start()
    yield harness
    await harness.stop()
