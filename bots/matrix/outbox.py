"""Sends what the handlers queued, in order, with each message's own stable transaction ID.

A message is sent only into a room nio knows (from sync). Before each send the trust policy
marks the devices of the room's members verified (cross-signed) or blacklisted, so the
room key reaches only devices their owner signed. A failure keeps the message queued and is
retried with the same transaction ID, so Synapse stores it once however often it is tried.

Rooms are independent: each room's messages leave strictly in order, but up to
``ROOMS_IN_PARALLEL`` rooms are sent to at once, and a room done makes way for the next one
at once, so fifty visitors answering together do not wait for each other's sends one by one
nor for a whole earlier batch (bench/triage.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from nio import OlmUnverifiedDeviceError, RoomSendError, RoomSendResponse

from bots.clock import Clock, millis
from bots.crypto.ports import Trust
from bots.db.outbox import OutboxMessage, OutboxStore
from bots.matrix.attachments import UploadFailed, needs_upload, with_upload
from bots.matrix.ports import MatrixClient
from bots.matrix.resilient import RoomKeyNotShared
from keerpunt.base.service import wait_or_timeout

log = logging.getLogger(__name__)

# Errors after which a message can never be delivered (room gone, bot not in it).
PERMANENT_ERRORS = frozenset({"M_FORBIDDEN", "M_NOT_FOUND", "M_UNKNOWN_TOKEN"})
RETRY_INITIAL = 0.5
RETRY_CAP = 30.0
IDLE_WAKEUP = 30.0
# Fifty visitors answering at once: with 8 rooms at a time the fiftieth answer waited for six
# rounds of sends (~0.35 s each on the development machine), twice the echo floor's p95 in
# bench.triage; Synapse queues concurrent sends itself, as it does for fifty browsers.
ROOMS_IN_PARALLEL = 64


class OutboxSender:
    def __init__(
        self,
        client: MatrixClient,
        store: OutboxStore,
        trust: Trust,
        clock: Clock,
        *,
        sent: Callable[[], None] = lambda: None,
    ) -> None:
        self.client = client
        self.store = store
        self.trust = trust
        self.clock = clock
        # Called after each message left: a card's event ID is known, the workers can go on.
        self.sent = sent
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        """Background task: flush whenever woken; back off (capped) while sends fail."""
        delay = RETRY_INITIAL
        failing = False
        while True:
            self._wake.clear()
            try:
                done = await self.flush()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("Sending queued messages failed; retrying in %.1fs", delay)
                done = False
            if done:
                if failing:
                    log.info("Sending queued messages recovered")
                failing, delay = False, RETRY_INITIAL
                wait = IDLE_WAKEUP
            else:
                failing, wait, delay = True, delay, min(delay * 2, RETRY_CAP)
            await wait_or_timeout(self._wake, wait)

    async def flush(self) -> bool:
        """Send every pending message, in order per room; False if one must be retried later.

        A room whose sends are done makes way at once for the next room with pending messages,
        including rooms whose messages were queued while this flush ran: a message never waits
        for the slowest room of an earlier batch (50 visitors answering at once, bench/triage.py).
        """
        sending: dict[str, asyncio.Task[bool]] = {}
        failed: set[str] = set()
        woken: asyncio.Task[bool] | None = None
        try:
            while True:
                self._wake.clear()
                rooms: dict[str, list[OutboxMessage]] = {}
                for message in await self.store.pending():
                    if message.room_id not in sending and message.room_id not in failed:
                        rooms.setdefault(message.room_id, []).append(message)
                for room_id, messages in list(rooms.items())[: ROOMS_IN_PARALLEL - len(sending)]:
                    sending[room_id] = asyncio.create_task(self._room(messages))
                if not sending:
                    return not failed
                woken = woken if woken is not None and not woken.done() else asyncio.create_task(self._wake.wait())
                await asyncio.wait([woken, *sending.values()], return_when=asyncio.FIRST_COMPLETED)
                for room_id, task in list(sending.items()):
                    if task.done():
                        del sending[room_id]
                        if not task.result():
                            failed.add(room_id)
        finally:  # (a wake after the last look at the store stays set: run() flushes again)
            for task in [*sending.values(), *([woken] if woken else [])]:
                task.cancel()

    async def _room(self, messages: list[OutboxMessage]) -> bool:
        for message in messages:
            if not await self.send(message):
                return False  # the rest of this room waits: order matters
        return True

    async def send(self, message: OutboxMessage) -> bool:
        """Try to deliver one message; True when it is settled (sent, or impossible to send)."""
        client = self.client
        room = client.rooms.get(message.room_id)
        if room is None:
            return False  # not seen in sync yet; the next batch brings it
        if message.content is None:
            await self.store.mark_failed(message.txn_id)
            return True
        await self.store.attempted(message.txn_id)
        if room.encrypted:
            if not room.members_synced:
                await client.joined_members(message.room_id)
            if client.should_query_keys:
                await client.keys_query()
            await self.trust.apply(client, list(room.users))
            if self.trust.settling(room.users):
                # A member's new device is not signed yet (a visitor's widget signs its device
                # right after logging in): wait for it a little, or it could not read this.
                return False
        content = message.content
        try:
            if needs_upload(content):
                content = await with_upload(client, content, room.encrypted)
            resp = await client.room_send(message.room_id, message.event_type, content, tx_id=message.txn_id)
        except UploadFailed as exc:
            log.info("Uploading an image failed (%s); the message stays queued", exc)
            return False
        except (OlmUnverifiedDeviceError, RoomKeyNotShared) as exc:
            # A device appeared while sending, or the room key missed one (a to-device send failed).
            log.info("Not sent yet (%s); trying again", type(exc).__name__)
            return False
        if isinstance(resp, RoomSendResponse):
            await self.store.mark_sent(message.txn_id, resp.event_id, millis(self.clock))
            self.sent()
            return True
        assert isinstance(resp, RoomSendError)
        if resp.status_code in PERMANENT_ERRORS:
            log.warning("Giving up a queued message: %s", resp.status_code)
            await self.store.mark_failed(message.txn_id)
            return True
        log.info("Sending a queued message failed (%s); it stays queued", resp.status_code)
        return False
