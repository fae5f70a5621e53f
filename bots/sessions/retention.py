"""Retention: a closed case is purged once ``retention.case_room_days`` have passed, and only
its counts remain (SECURITY.md G.30).

A case is due when it closed that long ago, no handover of it is live (consented or accepted:
the partner may still be talking with the visitor), and the statistics have counted all its
events. Its purge, in order, each step safe to repeat after a crash (the case stays due until
the last one):

1. the case room and its handover rooms are deleted and purged in Synapse (admin API; the
   background purge is awaited, an unfinished or failed one is tried again next round);
2. what was said about the case in staff rooms is redacted: the card, its edits, everything
   posted under it (summary, notes, reminders, a partner's decline reason) and what staff
   wrote in its thread or as a ``!note``;
3. the visitor's account is (still) deactivated with erase, and Synapse forgets its IP and
   device rows (Keerpunt's Synapse module);
4. the bots' crypto store forgets the rooms' Megolm sessions and the visitor's devices and
   Olm sessions;
5. in one transaction, every row of the bots' database keyed to the case, its rooms or its
   visitor is deleted: the case, its queue row and triage answers, its event log, staff
   posts and traces, handovers, handled and pending events, outbox rows, the identity pin,
   a return code.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging

from bots.clock import Clock, millis
from bots.db import Stores
from bots.db.case import Case
from bots.homeserver.admin import SynapseError
from bots.ids import EventID, RoomID
from bots.matrix.ports import MatrixClient
from bots.visitors.accounts import VisitorAccounts

log = logging.getLogger(__name__)

CHECK_INTERVAL = 600.0
PURGE_WAIT = 60.0
PURGE_ATTEMPTS = 3
PURGE_RETRY_DELAY = 1.0
# Handled-event records and settled outbox rows older than this can never be needed again
# (HandledEventStore.prune, OutboxStore.prune).
HANDLED_KEPT_MS = 86_400_000


class RetentionTask:
    def __init__(self, accounts: VisitorAccounts, stores: Stores, clock: Clock, client: MatrixClient) -> None:
        self.accounts = accounts
        self.admin = accounts.admin
        self.stores = stores
        self.clock = clock
        self.client = client

    async def run_once(self) -> int:
        """Purge every case that is due; return how many were purged."""
        now = millis(self.clock)
        await self.stores.handled.prune(now - HANDLED_KEPT_MS)
        await self.stores.outbox.prune(now - HANDLED_KEPT_MS)
        purged = 0
        for case in await self.stores.cases.due_for_purge(millis(self.clock)):
            if await self.purge(case):
                log.info("Purged closed case %s", case.number)
                purged += 1
        return purged

    async def purge(self, case: Case) -> bool:
        """Purge one case; False when a step must be tried again next round."""
        rooms = [case.room_id] if case.room_id is not None else []
        rooms += [h.room_id for h in await self.stores.handovers.rooms_of_case(case.id) if h.room_id is not None]
        for room_id in rooms:
            await self.stores.outbox.drop_room(room_id)
            status = await self._delete(room_id)
            if status != "complete":
                log.warning("Purging a room of case %s ended as %r; trying again later", case.number, status)
                return False
        await self._redact_staff_traces(case)
        if case.visitor is not None:
            await self.accounts.deactivate(case.visitor)
            await self._forget_in_synapse(case)
        self.client.forget(rooms, [case.visitor] if case.visitor else [])
        await self._forget_rows(case, rooms)
        return True

    async def _redact_staff_traces(self, case: Case) -> None:
        stores = self.stores
        for message in await stores.outbox.about_case(case.id):
            if message.event_id is not None:
                await self._redact(message.room_id, message.event_id)
            await stores.outbox.forget_message(message.txn_id)
        for room_id, event_id in await stores.traces.of_case(case.id):
            await self._redact(room_id, event_id)
            await stores.traces.forget(case.id, event_id)

    async def _redact(self, room_id: RoomID, event_id: EventID) -> None:
        txn = "kpp" + hashlib.sha256(event_id.encode()).hexdigest()[:32]
        try:
            await self.admin.redact(room_id, event_id, txn)
        except SynapseError as exc:
            if exc.status not in (403, 404):  # gone already, or no longer ours to redact
                raise

    async def _forget_in_synapse(self, case: Case) -> None:
        assert case.visitor is not None
        try:
            await self.admin.forget_user(case.visitor)
        except SynapseError as exc:
            if exc.status != 404:  # never registered: nothing to forget
                raise

    async def _forget_rows(self, case: Case, rooms: list[RoomID]) -> None:
        stores = self.stores
        async with stores.transaction():
            for room_id in rooms:
                await stores.outbox.forget_room(room_id)
                await stores.handled.forget_room(room_id)
            if case.visitor is not None:
                await stores.pins.forget(case.visitor)
            await stores.codes.forget(case.id)
            await stores.handovers.forget_case(case.id)
            await stores.posts.forget_case(case.id)
            await stores.queue.forget_case(case.id)
            await stores.case_log.forget_case(case.id)
            await stores.cases.forget(case.id)

    async def _delete(self, room_id: RoomID) -> str:
        """Delete and purge the room; a failed attempt is tried again at once, a few times.

        Synapse's purge can fail when the room is written to at the same moment (seen on
        PostgreSQL right after the visitor left); a later attempt then succeeds.
        """
        status = ""
        for attempt in range(PURGE_ATTEMPTS):
            if attempt:
                await asyncio.sleep(PURGE_RETRY_DELAY * attempt)
            try:
                delete_id = await self.admin.delete_room(room_id, purge=True)
            except SynapseError as exc:
                if exc.status == 404:
                    return "complete"  # purged before a crash
                raise
            status = await self._wait(delete_id, room_id)
            if status == "complete":
                break
        return status

    async def _wait(self, delete_id: str, room_id: RoomID) -> str:
        deadline = self.clock.monotonic() + PURGE_WAIT
        status = ""
        while self.clock.monotonic() < deadline:
            status = await self.admin.delete_status(delete_id, room_id)
            if status in ("complete", "failed"):
                return status
            await asyncio.sleep(0.2)
        return status

    async def step(self) -> None:
        """One round for ``backoff_loop``: purge what is due, then wait."""
        await self.run_once()
        await asyncio.sleep(CHECK_INTERVAL)
