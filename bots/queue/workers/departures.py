"""Cases the visitor ended, or came back to, through the session API (the queue catches up)."""

from __future__ import annotations

from collections.abc import Callable

from bots.clock import Clock, millis
from bots.concern import Reconciler
from bots.db import Stores
from bots.db.case import Case
from bots.db.queue.workflow import DEPARTURES
from bots.queue.domain import QueueDomain


class Departures(Reconciler):
    name = "queue departures"
    title = "The queue's departures"

    def __init__(self, stores: Stores, domain: QueueDomain, clock: Clock, to_send: Callable[[], None]) -> None:
        super().__init__()
        self.stores = stores
        self.domain = domain
        self.clock = clock
        self.to_send = to_send

    async def _case(self, case_id: str) -> Case:
        case = await self.stores.cases.get(case_id)
        assert case is not None
        return case

    async def step(self) -> bool:
        now = millis(self.clock)
        due = self.stores.queue.due
        for q in await due.returned():
            async with self.stores.transaction():
                await self.domain.returned(await self._case(q.case_id), q, now)
            self.to_send()
        for case_id, reason in await due.ended_by_visitor():
            if reason in DEPARTURES:
                async with self.stores.transaction():
                    await self.domain.depart(await self._case(case_id), reason, now)
                self.to_send()
        return False
