"""Reminders in the queue room about a case waiting unclaimed past its due time: a live chat,
or a message left for later once the chat is open (``bots.queue.reminding``)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from bots.clock import Clock, millis
from bots.concern import Reconciler
from bots.db import Stores
from bots.queue.reminding import QueueReminders

log = logging.getLogger(__name__)


class Reminders(Reconciler):
    name = "queue reminders"
    title = "The queue's reminders"

    def __init__(self, stores: Stores, reminders: QueueReminders, clock: Clock, changed: Callable[[], None]) -> None:
        super().__init__()
        self.stores = stores
        self.reminders = reminders
        self.clock = clock
        self.changed = changed  # the card worker posts the reminder under the card

    async def step(self) -> bool:
        now = millis(self.clock)
        for reminder in await self.stores.queue.notices.due_reminders(now):
            case = await self.stores.cases.get(reminder.case_id)
            assert case is not None
            async with self.stores.transaction():
                sent = await self.reminders.remind(case, reminder, now)
            if sent:
                log.info("Reminded the queue room of a case waiting unclaimed")
                self.changed()
        return False
