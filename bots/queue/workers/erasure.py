"""Erasing a visitor a while after their case closed (so they can still read the last messages).

A visitor who ends the chat is erased at once (``bots.sessions``); after a counsellor's close or
a timer's, the account is erased once ``queue.erase_after_minutes`` passed, and not while a
handover of the case is live.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from bots.clock import Clock, millis
from bots.concern import Reconciler
from bots.db import Stores
from bots.db.case import Case
from bots.queue.domain import CLOSED_BY_COUNSELLOR, MINUTE_MS

log = logging.getLogger(__name__)

# Closes after which the visitor is erased once ``queue.erase_after_minutes`` passed.
ERASED_AFTER_GRACE = (CLOSED_BY_COUNSELLOR, "abandoned", "left", "timeout")


class Erasure(Reconciler):
    name = "queue erasure"
    title = "Erasing visitors after a close"

    def __init__(
        self, stores: Stores, erase: Callable[[Case], Awaitable[None]], clock: Clock, grace_minutes: float
    ) -> None:
        super().__init__()
        self.stores = stores
        self.erase = erase
        self.clock = clock
        self.grace_ms = int(grace_minutes * MINUTE_MS)

    async def step(self) -> bool:
        now = millis(self.clock)
        for case_id in await self.stores.queue.due.to_erase(ERASED_AFTER_GRACE, now - self.grace_ms):
            case = await self.stores.cases.get(case_id)
            assert case is not None
            await self.erase(case)
            log.info("Erased the visitor of case %s after its close", case.number)
        return False
