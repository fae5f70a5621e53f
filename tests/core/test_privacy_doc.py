"""docs/privacy.md lists every table of the bots' database (SECURITY.md F.28)."""

from __future__ import annotations

import re
from pathlib import Path

from tests.support.core import CoreBot
from tests.support.database import rows

DOC = Path(__file__).resolve().parents[2] / "docs" / "privacy.md"


async def test_every_table_of_the_bots_database_is_in_the_privacy_document(core: CoreBot) -> None:
    listed = set(re.findall(r"^\| `([a-z_]+)` \|", DOC.read_text("utf-8"), re.MULTILINE))
    tables = set(await rows(core.stores))
    tables.discard("mx_version")  # mautrix's own bookkeeping on PostgreSQL, listed as `version`
    assert tables - listed == set(), "tables docs/privacy.md does not list"
    assert listed - tables == set(), "docs/privacy.md lists tables that do not exist"
