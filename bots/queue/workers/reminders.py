"""Reminders in the queue room about a case waiting unclaimed past its due time (stored due
times, so the timers survive a restart; each fires once per due time)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from bots.clock import Clock, millis
from bots.concern import Reconciler
from bots.db import Stores
from bots.queue.domain import QueueDomain

log = logging.getLogger(__name__)


class Reminders(Reconciler):
    name = "queue reminders"
    title = "The queue's reminders"

    def __init__(self, stores: Stores, domain: QueueDomain, clock: Clock, changed: Callable[[], None]) -> None:
        super().__init__()
        self.stores = stores
        self.domain = domain
        self.clock = clock
        self.changed = changed  # the card worker posts the reminder under the card

    async def step(self) -> bool:
        now = millis(self.clock)
        for reminder in await self.stores.queue.notices.due_reminders(now):
            case = await self.stores.cases.get(reminder.case_id)
            assert case is not None
            async with self.stores.transaction():
                sent = await self.domain.remind(case, reminder, now)
            if sent:
                log.info("Reminded the queue room of a case waiting unclaimed")
                self.changed()
        return False
