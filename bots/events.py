"""Routes the room events of each sync batch to the handler of their concern.

Only case rooms are routed for now (staff rooms follow with the queue). For an event in a
case room:

- still encrypted (its room key has not arrived): parked in ``pending_event`` and tried
  again after every batch; after ``GIVE_UP_MS`` it is recorded as undecryptable;
- state and membership: not messages, nothing to answer;
- sent unencrypted, or from a device its owner has not cross-signed (DESIGN.md rule 3):
  recorded as ignored, never acted on;
- otherwise, from the visitor: the greeting handler.
"""

from __future__ import annotations

import logging
from typing import Any

from nio import EncryptionError, Event, MegolmEvent

from .clock import Clock, millis
from .crypto.trust import TrustPolicy
from .db.case import Case, CaseStore
from .db.handled_event import HandledEventStore
from .db.pending_event import PendingEventStore
from .greeting import GreetingHandler
from .ids import EventID, RoomID, UserID
from .matrix.client import BotClient

log = logging.getLogger(__name__)

GIVE_UP_MS = 15 * 60 * 1000
FAILURES_BEFORE_SKIP = 3


def _is_state(event: Event) -> bool:
    return isinstance(event.source, dict) and "state_key" in event.source


class EventRouter:
    def __init__(
        self,
        client: BotClient,
        cases: CaseStore,
        handled: HandledEventStore,
        pending: PendingEventStore,
        trust: TrustPolicy,
        greeting: GreetingHandler,
        clock: Clock,
    ) -> None:
        self.client = client
        self.cases = cases
        self.handled = handled
        self.pending = pending
        self.trust = trust
        self.greeting = greeting
        self.clock = clock
        self._failures: dict[str, int] = {}

    async def on_room_event(self, room_id: RoomID, event: Event) -> None:
        if event.sender == self.client.user_id or _is_state(event):
            return
        case = await self.cases.by_room(room_id)
        if case is None:
            return
        event_id = EventID(event.event_id)
        if await self.handled.seen(event_id):
            return
        if isinstance(event, MegolmEvent):
            await self.pending.add(event_id, room_id, event.source, millis(self.clock))
            return
        await self._guarded(case, event)

    async def _guarded(self, case: Case, event: Event) -> None:
        """Handle one event; one that keeps failing is recorded as failed, not retried forever."""
        try:
            await self._handle(case, event)
        except Exception:
            count = self._failures.get(event.event_id, 0) + 1
            self._failures[event.event_id] = count
            if count < FAILURES_BEFORE_SKIP:
                raise
            log.exception("Handling an event failed %d times; skipping it", count)
            assert case.room_id is not None
            await self.handled.record(EventID(event.event_id), case.room_id, "failed", millis(self.clock))
        else:
            self._failures.pop(event.event_id, None)

    async def _handle(self, case: Case, event: Event) -> None:
        assert case.room_id is not None
        event_id = EventID(event.event_id)
        if not getattr(event, "decrypted", False):
            await self.handled.record(event_id, case.room_id, "ignored_unencrypted", millis(self.clock))
            return
        if not await self._from_trusted_device(case.room_id, event):
            log.info("Ignoring a message from a device its owner has not cross-signed (case %s)", case.number)
            await self.handled.record(event_id, case.room_id, "ignored_untrusted", millis(self.clock))
            return
        event_type, content = _type_and_content(event)
        if event.sender == case.visitor:
            await self.greeting.on_visitor_event(case, event_id, event_type, content)
        else:  # counsellors arrive with the queue (issue 4)
            await self.handled.record(event_id, case.room_id, "handled", millis(self.clock))

    async def _from_trusted_device(self, room_id: RoomID, event: Event) -> bool:
        sender_key = getattr(event, "sender_key", None)
        session_id = getattr(event, "session_id", None)
        olm = self.client.olm
        if not sender_key or not session_id or olm is None:
            return False
        session = olm.inbound_group_store.get(room_id, sender_key, session_id)
        if session is None or session.forwarding_chain:
            return False  # a forwarded key says nothing about who sent the message
        device = await self.trust.trusted_sender(UserID(event.sender), sender_key, session.ed25519)
        return device is not None

    async def after_batch(self) -> None:
        """Try the parked encrypted events again now that more room keys may have arrived."""
        now = millis(self.clock)
        for parked in await self.pending.all():
            event = Event.parse_event(parked.source)
            if not isinstance(event, MegolmEvent):
                await self.pending.remove(parked.event_id)
                continue
            event.room_id = parked.room_id
            try:
                decrypted = self.client.decrypt_event(event)
            except EncryptionError:
                if now - parked.first_seen > GIVE_UP_MS:
                    log.warning("Giving up on an event whose room key never arrived")
                    await self.handled.record(parked.event_id, parked.room_id, "undecryptable", now)
                    await self.pending.remove(parked.event_id)
                continue
            case = await self.cases.by_room(parked.room_id)
            if case is not None and not await self.handled.seen(parked.event_id):
                await self._guarded(case, decrypted)
            await self.pending.remove(parked.event_id)


def _type_and_content(event: Event) -> tuple[str, dict[str, Any]]:
    source = event.source if isinstance(event.source, dict) else {}
    content = source.get("content")
    return str(source.get("type", "")), content if isinstance(content, dict) else {}
