"""The end of a dormant case (docs/return-code.md "Dormant"), whatever happens to its code.

A dormant case ends at its own expiry, ``visitor_case.purge_after`` (set to the code's expiry
when the case went dormant): not through its code row, so that no missing, replaced or
half-written row can keep a case, its account and its room alive (SECURITY.md H.38). This runs
whether return codes are on or not: a case left dormant before they were switched off still
ends on time.

Ending it closes the case (``code_expired`` or ``code_wrong``), forgets its code, tells the
counsellor under the card, erases the account and leaves the purge to retention, as for any
close. The same round forgets code rows that can no longer be used: an expired one, and one
used for a return whose new device signed in (or whose case is not open any more).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from bots.clock import Clock, millis
from bots.db import Stores
from bots.db.case import Case
from bots.db.later import LATER
from bots.db.return_code import ReturnCode
from bots.matrix.content import staff_text
from bots.texts import Language, text
from bots.visitors.accounts import VisitorAccounts

log = logging.getLogger(__name__)

CHECK_INTERVAL = 300.0


class DormantCases:
    def __init__(
        self,
        accounts: VisitorAccounts,
        stores: Stores,
        clock: Clock,
        staff_language: Language,
        changed: Callable[[], None] = lambda: None,
    ) -> None:
        self.accounts = accounts
        self.admin = accounts.admin
        self.stores = stores
        self.clock = clock
        self.staff_language = staff_language
        self.changed = changed  # wakes the queue's workers (cards, posts)

    async def end(self, case: Case, reason: str) -> None:
        """End a dormant case: closed, its code gone, the counsellor told, the account erased."""
        now = millis(self.clock)
        async with self.stores.transaction():
            if not await self.stores.dormancy.end_dormant(case.id, reason, now):
                return
            await self.stores.codes.forget(case.id)
            await self.stores.case_log.add(case.id, "case_closed", now, None, reason)
            q = await self.stores.queue.workflow.get(case.id)
            if q is not None and q.stage == "waiting_async":  # nobody took it: its card says it ended
                await self.stores.queue.workflow.expire(case.id, "async", now)
            if q is not None:
                body = text(self.staff_language, f"queue.staff.{reason}", number=case.number)
                await self.stores.posts.add(case.id, "reply", staff_text(body), now)
        log.info("Dormant case %s ended (%s)", case.number, reason)
        await self.accounts.erase(case)
        self.changed()

    async def _expiry(self, case: Case) -> str:
        """Why a dormant case past its end ends: a message nobody answered within
        ``async.keep_days`` (docs/write-later.md), else its code expired."""
        if case.close_reason == LATER:
            later = await self.stores.later.get(case.id)
            if later is not None and later.answered_at is None:
                return "async_unanswered"
        return "code_expired"

    async def signed_in(self, case: Case, code: ReturnCode) -> bool:
        """Whether the visitor of a returned case has a device besides the one kept while dormant."""
        assert case.visitor is not None
        devices = await self.admin.devices(case.visitor)
        return any(str(d.get("device_id")) != code.kept_device for d in devices)

    async def run_once(self) -> int:
        """End every dormant case past its expiry and forget every code that cannot be used
        any more; how many cases ended."""
        now = millis(self.clock)
        ended = 0
        for case_id in await self.stores.dormancy.expired(now):
            case = await self.stores.cases.get(case_id)
            if case is not None and case.state == "dormant":
                await self.end(case, await self._expiry(case))
                ended += 1
        for case_id in await self.stores.codes.expired(now):
            case = await self.stores.cases.get(case_id)
            if case is not None and case.state == "dormant":
                await self.end(case, "code_expired")
                ended += 1
            else:
                await self.stores.codes.forget(case_id)
        for code in await self.stores.codes.used_for_return():
            case = await self.stores.cases.get(code.case_id)
            if case is None or case.state != "open" or case.visitor is None or await self.signed_in(case, code):
                await self.stores.codes.forget(code.case_id)  # used up
        return ended

    async def step(self) -> None:
        """One round for ``backoff_loop``."""
        await self.run_once()
        await asyncio.sleep(CHECK_INTERVAL)
