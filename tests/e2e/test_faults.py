"""bench/faults at CI size (issue 27): a few visitors talking with counsellors on
`keerpunt dev --workers` while each process is killed once, then the bots and a worker together.

The same code as ``make faults`` (the full run), smaller: nothing may be lost, doubled,
left unreadable or unsent, every session start succeeds, and no case is left in an impossible
state. The stack's PostgreSQL and Redis are private to the run (the machine's shared ones are
never stopped).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bench.faults.infra import missing
from bench.faults.report import markdown, passed, rows
from bench.faults.schedule import FAULTS, Options, run

pytestmark = pytest.mark.integration
IN_CI = os.environ.get("CI", "").lower() == "true"


async def test_conversations_survive_every_fault_once(tmp_path: Path) -> None:
    lacking = missing()
    if lacking and not IN_CI:
        pytest.skip("; ".join(lacking))
    assert not lacking, lacking
    ledger = await run(Options(tmp_path, visitors=6, counsellors=3, pause=12.0, pace=(3.0, 8.0), faults=FAULTS))
    table = rows(ledger)
    total = table[-1]
    print(markdown(ledger))
    assert [r["fault"] for r in table[1:-1]] == list(FAULTS)
    # Traffic in every window, or a fault could pass without anything to lose.
    assert total["sent"] > 2 * len(FAULTS), markdown(ledger)
    assert total["starts"] == 6, markdown(ledger)
    assert passed(table, ledger), markdown(ledger)
