"""Counts the case events as they happen: each one exactly once, into daily counts.

Every concern already writes what happens to a case to its event log (``case_event``). This
worker reads the events nobody has counted yet and, for each, adds its counts and marks it
counted in one transaction, so a crash counts nothing twice and nothing is lost. The case's
own events are deleted at its purge, which waits until all of them are counted.
"""

from __future__ import annotations

import logging
from zoneinfo import ZoneInfo

from bots.concern import Reconciler
from bots.db import Stores
from bots.db.case_log import CaseEvent
from bots.stats.counting import Known, counts, day_of

log = logging.getLogger(__name__)

BATCH = 200
IDLE_WAIT = 30.0
BUSY_WAIT = 0.1


class StatsWorker(Reconciler):
    name = "statistics"
    title = "The statistics"
    busy = BUSY_WAIT
    idle = IDLE_WAIT

    def __init__(self, stores: Stores, known: Known, zone: ZoneInfo) -> None:
        super().__init__()
        self.stores = stores
        self.known = known
        self.zone = zone

    async def step(self) -> bool:
        """Count a batch of events; True when more are waiting."""
        events = await self.stores.case_log.uncounted(BATCH)
        histories: dict[str, list[CaseEvent]] = {}
        for event in events:
            if event.case_id not in histories:
                histories[event.case_id] = await self.stores.case_log.of_case(event.case_id)
            history = [e for e in histories[event.case_id] if e.seq < event.seq]
            async with self.stores.transaction():
                if not await self.stores.case_log.mark_counted(event.seq):
                    continue
                day = day_of(event.happened_at, self.zone)
                for count in counts(event, history, self.known):
                    await self.stores.stats.add(day, count.measure, count.dimension)
        return len(events) == BATCH
