"""Fixtures for warm handovers: a partner directory with two partners whose intake staff are
cross-signed users of the test Synapse, and the bots reading it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from bots.db.staff import StaffStore
from keerpunt.testing import SynapseProcess

from ...matrix_clients import ClientFactory
from ..bots.conftest import bots_database  # noqa: F401 - the fixture, shared with issue 3's tests
from ..bots.harness import InProcessBots, bots_config
from ..queue.staff import Observer

pytestmark = pytest.mark.integration

SUMMARY = "Jongen van 16 moet pakketjes rondbrengen voor een oudere jongen en durft niet te stoppen."


@dataclass
class Partners:
    """Two partners: ``care`` (Utrecht, its intake member listed in the directory) and
    ``police`` (national, its intake member a local partner account of the staff table)."""

    file: Path
    care: Observer
    police: Observer


def directory(care: str) -> dict[str, Any]:
    return {
        "partners": [
            {
                "id": "jeugdzorg-utrecht",
                "name": "Jeugdzorg Utrecht",
                "kind": "youth-care",
                "regions": ["utrecht"],
                "description": {"nl": "Hulp voor jongeren in Utrecht.", "en": "Help for young people in Utrecht."},
                "intake": [care],
            },
            {
                # No intake listed: its intake member is a local account of the staff table,
                # as `keerpunt staff add NAME --role partner --partner politie` makes it.
                "id": "politie",
                "name": "Politie",
                "kind": "police",
                "regions": ["national"],
                "description": {"nl": "De politie.", "en": "The police."},
            },
        ]
    }


@pytest.fixture
async def partners(clients: ClientFactory, tmp_path: Path) -> Partners:
    care = Observer(await clients.user("intake-zorg", cross_sign=True))
    police = Observer(await clients.user("intake-politie", cross_sign=True))
    path = tmp_path / "partners.yaml"
    path.write_text(yaml.safe_dump(directory(care.user_id), allow_unicode=True))
    return Partners(path, care, police)


def handover_extra(partners: Partners) -> dict[str, Any]:
    return {"handover": {"partners_file": str(partners.file), "reminder_hours": 1}}


@pytest.fixture
async def bots(
    synapse: SynapseProcess,
    tmp_path: Path,
    bots_database: str,  # noqa: F811 - the imported fixture, requested by name
    partners: Partners,
) -> AsyncIterator[InProcessBots]:
    harness = InProcessBots(bots_config(synapse, tmp_path / "data", bots_database, handover_extra(partners)))
    await harness.start()
    await StaffStore(harness.db).add(partners.police.user_id, "partner", "politie")
    yield harness
    await harness.stop()
