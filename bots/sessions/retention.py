"""Retention: purge the rooms of closed cases once ``retention.case_room_days`` have passed.

A case's handover rooms are purged with its case room.

Uses Synapse's admin API (``DELETE /_synapse/admin/v2/rooms/<room>`` with ``purge: true``)
and waits for the background purge to finish before recording it; an unfinished or failed
purge is simply tried again next round. The bots' own records of the room (handled events,
outbox rows, the visitor's identity pin) are dropped with it. The time source is injectable
(tests move it).
"""

from __future__ import annotations

import asyncio
import logging

from bots.clock import Clock, millis
from bots.db import Stores
from bots.homeserver.admin import SynapseAdmin
from bots.ids import RoomID

log = logging.getLogger(__name__)

CHECK_INTERVAL = 600.0
PURGE_WAIT = 60.0
PURGE_ATTEMPTS = 3
PURGE_RETRY_DELAY = 1.0


class RetentionTask:
    def __init__(self, admin: SynapseAdmin, stores: Stores, clock: Clock) -> None:
        self.admin = admin
        self.cases = stores.cases
        self.outbox = stores.outbox
        self.handled = stores.handled
        self.pins = stores.pins
        self.handovers = stores.handovers
        self.clock = clock

    async def run_once(self) -> int:
        """Purge every case room that is due; return how many were purged."""
        purged = 0
        for case in await self.cases.due_for_purge(millis(self.clock)):
            assert case.room_id is not None
            await self.outbox.drop_room(case.room_id)
            status = await self._delete(case.room_id)
            if status != "complete":
                log.warning("Purging the room of case %s ended as %r; trying again later", case.number, status)
                continue
            # What the bots kept about the room goes with it (event and transaction IDs, the
            # visitor's identity pin); the case row itself stays for the statistics.
            await self.outbox.forget_room(case.room_id)
            await self.handled.forget_room(case.room_id)
            if case.visitor is not None:
                await self.pins.forget(case.visitor)
            if not await self._purge_handover_rooms(case.id):
                continue  # the case stays due: tried again next round
            await self.cases.mark_purged(case.id, millis(self.clock))
            log.info("Purged the room of closed case %s", case.number)
            purged += 1
        return purged

    async def _purge_handover_rooms(self, case_id: str) -> bool:
        """The case's handover rooms go with its case room; False if one is not purged yet."""
        done = True
        for handover in await self.handovers.rooms_of_case(case_id):
            assert handover.room_id is not None
            await self.outbox.drop_room(handover.room_id)
            status = await self._delete(handover.room_id)
            if status != "complete":
                log.warning("Purging a handover room ended as %r; trying again later", status)
                done = False
                continue
            await self.outbox.forget_room(handover.room_id)
            await self.handled.forget_room(handover.room_id)
            await self.handovers.mark_purged(handover.id, millis(self.clock))
        return done

    async def _delete(self, room_id: RoomID) -> str:
        """Delete and purge the room; a failed attempt is tried again at once, a few times.

        Synapse's purge can fail when the room is written to at the same moment (seen on
        PostgreSQL right after the visitor left); a later attempt then succeeds.
        """
        status = ""
        for attempt in range(PURGE_ATTEMPTS):
            if attempt:
                await asyncio.sleep(PURGE_RETRY_DELAY * attempt)
            status = await self._wait(await self.admin.delete_room(room_id, purge=True))
            if status == "complete":
                break
        return status

    async def _wait(self, delete_id: str) -> str:
        deadline = self.clock.monotonic() + PURGE_WAIT
        status = ""
        while self.clock.monotonic() < deadline:
            status = await self.admin.delete_status(delete_id)
            if status in ("complete", "failed"):
                return status
            await asyncio.sleep(0.2)
        return status

    async def step(self) -> None:
        """One round for ``backoff_loop``: purge what is due, then wait."""
        await self.run_once()
        await asyncio.sleep(CHECK_INTERVAL)
