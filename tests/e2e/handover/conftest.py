"""The handover's bots read a directory of two partners whose intake staff are cross-signed
users of the test Synapse (tests/support/handover.py). The partners live as long as the
module's bots: a test that asserts a partner got no invite must not follow, in its module, one
that invites that partner."""

from __future__ import annotations

from typing import Any

import pytest

from bots.db.staff import StaffStore
from tests.support.bots import BotsSetup, InProcessBots
from tests.support.handover import Partners, handover_extra, make_partners
from tests.support.matrix_clients import ClientFactory


@pytest.fixture(scope="module")
async def partners(module_clients: ClientFactory, tmp_path_factory: pytest.TempPathFactory) -> Partners:
    return await make_partners(module_clients, tmp_path_factory.mktemp("partners"))


@pytest.fixture(scope="module")
def bots_extra(partners: Partners) -> dict[str, Any]:
    return handover_extra(partners)


@pytest.fixture(scope="module")
def bots_setup(partners: Partners) -> BotsSetup:
    """The police's intake member is a local partner account (``keerpunt staff add … --role partner``)."""

    async def police_is_staff(bots: InProcessBots) -> None:
        await StaffStore(bots.db).add(partners.police.user_id, "partner", "politie")

    return police_is_staff
