"""Erasing a visitor's account: deactivated with ``erase: true``, the case marked erased.

Shared by the session end (the visitor ended the chat), the queue (a while after a counsellor
closed it) and the start-up repair (an erase a crash left undone). Idempotent: an account that
was never registered or is already gone counts as erased.
"""

from __future__ import annotations

from bots.clock import Clock, millis
from bots.db.case import Case, CaseStore
from bots.homeserver.admin import SynapseAdmin, SynapseError
from bots.ids import UserID


class VisitorAccounts:
    def __init__(self, admin: SynapseAdmin, cases: CaseStore, clock: Clock) -> None:
        self.admin = admin
        self.cases = cases
        self.clock = clock

    async def deactivate(self, visitor: UserID) -> None:
        try:
            await self.admin.deactivate(visitor, erase=True)
        except SynapseError as exc:
            if exc.status != 404:  # never registered: nothing to undo
                raise

    async def erase(self, case: Case) -> None:
        """Deactivate and erase the visitor's account of a closed case."""
        assert case.visitor is not None
        await self.deactivate(case.visitor)
        await self.cases.mark_erased(case.id, millis(self.clock))
