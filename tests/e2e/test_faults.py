"""bench/faults at CI size (issue 27): a few visitors talking with counsellors on
`keerpunt dev --workers` while each process is killed once, then the bots and a worker together.

The same code as ``make faults`` (the full run), smaller. Nothing may be doubled or refused for
good, every session start succeeds, no case is left in an impossible state, and nothing is lost
or left unreadable after any fault, the to-device writer (streams1) included: its restart once
left messages unreadable for good, because nio took Caddy's empty 502 for a delivered room key
(bots/matrix/resilient.py, mend 4; docs/operations.md, "What survives what"). The stack's
PostgreSQL and Redis are private to the run (the machine's shared ones are never stopped).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bench.faults.infra import missing
from bench.faults.report import markdown, rows
from bench.faults.schedule import FAULTS, Options, run

pytestmark = pytest.mark.integration
IN_CI = os.environ.get("CI", "").lower() == "true"


async def test_conversations_survive_every_fault_once(tmp_path: Path) -> None:
    lacking = missing()
    if lacking and not IN_CI:
        pytest.skip("; ".join(lacking))
    assert not lacking, lacking
    ledger = await run(Options(tmp_path, visitors=6, counsellors=3, pause=10.0, pace=(3.0, 8.0), faults=FAULTS))
    table = rows(ledger)
    report = markdown(ledger)
    print(report)
    assert [r["fault"] for r in table[1:-1]] == list(FAULTS)
    total = table[-1]
    # Traffic in the run, or a fault could pass without anything to lose.
    assert total["sent"] > 2 * len(FAULTS), report
    assert total["starts"] == 6 and total["starts_failed"] == 0, report
    assert total["doubled"] == 0 and total["not_accepted"] == 0, report
    assert not any(ledger.impossible.values()), report
    for row in table[:-1]:
        assert row["lost"] == row["undecryptable"] == 0, (row["fault"], report)
