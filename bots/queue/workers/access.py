"""Who has a case room, and where it is listed: applied in Synapse as the workflow decided.

- room access: the claiming counsellor is moderator and invited, a previous one kicked;
- the staff Space: case rooms in the queue or claimed are its children, others are not; the
  Space itself is made anew every week (bots/queue/space.py) so that it keeps no purged room.

A bounded number of changes per round, a few at once: rounds stay short under load (fifty
cases entering at once), so nothing waits behind a long row of Space links.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from bots.concern import Reconciler
from bots.db import Stores
from bots.db.case import Case
from bots.db.queue.access import Access, SpaceLink
from bots.homeserver.admin import SynapseError
from bots.queue.rooms import StaffMatrix
from bots.queue.space import SpaceRotation

log = logging.getLogger(__name__)

# Changes in Synapse (room access, Space links) per round, and at once.
PER_ROUND = 8
IN_PARALLEL = 4

Change = TypeVar("Change", Access, SpaceLink)


class AccessReconciler(Reconciler):
    name = "queue access"
    title = "The case rooms' access"

    def __init__(self, stores: Stores, matrix: StaffMatrix, rotation: SpaceRotation | None = None) -> None:
        super().__init__()
        self.stores = stores
        self.access = stores.queue.access
        self.matrix = matrix
        # The staff Space made anew now and then (bots/queue/space.py), before any link.
        self.rotation = rotation

    async def step(self) -> bool:
        rotating = await self.rotation.step() if self.rotation is not None else False
        busy = await self._batch(await self.access.to_apply(), self._give_access, self._access_done)
        linking = await self._batch(await self.access.space_to_apply(), self._link, self._link_done)
        return rotating or linking or busy

    async def _live_room(self, case_id: str) -> Case | None:
        case = await self.stores.cases.get(case_id)
        assert case is not None
        return case if case.room_id is not None and case.purged_at is None else None

    async def _give_access(self, change: Access) -> None:
        case = await self._live_room(change.case_id)
        if case is not None and case.room_id is not None:
            await self.matrix.give_access(case.room_id, change.claimed_by, change.room_counsellor)
            log.info("Room access of case %s applied", case.number)
        await self._access_done(change)

    async def _access_done(self, change: Access) -> None:
        await self.access.applied(change.case_id, change.claimed_by)

    async def _link(self, change: SpaceLink) -> None:
        case = await self._live_room(change.case_id)
        if case is not None and case.room_id is not None:
            await self.matrix.link(case.room_id, change.wanted)
        await self._link_done(change)

    async def _link_done(self, change: SpaceLink) -> None:
        await self.access.space_applied(change.case_id, change.wanted)

    async def _batch(
        self,
        items: Sequence[Change],
        apply: Callable[[Change], Awaitable[None]],
        gone: Callable[[Change], Awaitable[None]],
    ) -> bool:
        """Apply a bounded number of changes in Synapse at once; True when more are left for the next round."""
        batch = items[:PER_ROUND]
        limit = asyncio.Semaphore(IN_PARALLEL)

        async def one(change: Change) -> None:
            async with limit:
                try:
                    await apply(change)
                except SynapseError as exc:
                    if exc.status not in (403, 404):
                        raise
                    # The room is gone or the bot lost its power there: nothing to apply, ever.
                    log.warning("Could not apply a change to a case room (%s); giving up on it", exc.errcode)
                    await gone(change)

        results = await asyncio.gather(*(one(change) for change in batch), return_exceptions=True)
        failures = [r for r in results if isinstance(r, BaseException)]
        for failure in failures:  # the others were applied; these are tried again next round
            log.error("Applying a case change in Synapse failed", exc_info=failure)
        return bool(failures) or len(items) > len(batch)
