"""Routes the room events of each sync batch to the handler of their concern.

Three kinds of rooms are routed: case rooms (one per visitor), the staff queue room and
handover rooms (docs/handover.md). For an event in any of them:

- still encrypted (its room key has not arrived): parked in ``pending_event`` and tried
  again after every batch; after ``GIVE_UP_MS`` it is recorded as undecryptable;
- state: only someone leaving a case room matters: the visitor (the card and counsellor are
  told) or the counsellor who claimed it (the case goes back to the queue); and a partner's
  intake member joining a handover room (the visitor is told who joined) or the visitor
  leaving it (the partner and counsellor are told);
- sent unencrypted, or from a device its owner has not cross-signed (DESIGN.md rule 3):
  recorded as ignored, never acted on — except a reaction in the queue room: clients send
  ``m.reaction`` in the clear, so a 👍 on a card counts from any device of a staff member
  (it only claims; room keys still reach cross-signed devices only);
- otherwise, from the visitor: the visitor handler (greeting, triage, the answer to a
  handover question) — in a handover room nothing the visitor writes is for the bot; from
  anyone else (staff, partners, or a stranger in the queue room): the command handler.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from nio import EncryptionError, Event, MegolmEvent

from bots.clock import Clock, millis
from bots.commands.handler import CommandHandler, Where
from bots.crypto.trust import TrustPolicy
from bots.db.case import Case, CaseStore
from bots.db.handled_event import HandledEventStore
from bots.db.handover import Handover, HandoverStore
from bots.db.pending_event import PendingEventStore
from bots.db.queue_case import Departure
from bots.handover.handler import HandoverHandler
from bots.ids import EventID, RoomID, UserID
from bots.matrix.client import BotClient
from bots.queue.visitor import VisitorHandler

log = logging.getLogger(__name__)

GIVE_UP_MS = 15 * 60 * 1000
FAILURES_BEFORE_SKIP = 3


def _is_state(event: Event) -> bool:
    return isinstance(event.source, dict) and "state_key" in event.source


def _who_left(event: Event) -> UserID | None:
    """The user whom ``event`` shows leaving (or removed from, or declining) the room."""
    source: dict[str, Any] = event.source if isinstance(event.source, dict) else {}
    raw = source.get("content")
    content: dict[str, Any] = raw if isinstance(raw, dict) else {}
    if source.get("type") != "m.room.member" or content.get("membership") not in ("leave", "ban"):
        return None
    user = source.get("state_key")
    return UserID(user) if isinstance(user, str) else None


def _who_joined(event: Event) -> tuple[UserID, str] | None:
    """The user ``event`` shows joining the room, with the display name they joined with."""
    source: dict[str, Any] = event.source if isinstance(event.source, dict) else {}
    raw = source.get("content")
    content: dict[str, Any] = raw if isinstance(raw, dict) else {}
    user = source.get("state_key")
    if source.get("type") != "m.room.member" or content.get("membership") != "join" or not isinstance(user, str):
        return None
    unsigned = source.get("unsigned")
    previous = unsigned.get("prev_content") if isinstance(unsigned, dict) else None
    if isinstance(previous, dict) and previous.get("membership") == "join":
        return None  # a profile change, not a join
    name = content.get("displayname")
    return UserID(user), name if isinstance(name, str) and name.strip() else user


@dataclass(frozen=True)
class InHandover:
    """A handover room, with the case it came from."""

    handover: Handover
    case: Case


Target = Case | RoomID | InHandover  # a case room's case, the queue room, or a handover room


class EventRouter:
    def __init__(
        self,
        client: BotClient,
        cases: CaseStore,
        handled: HandledEventStore,
        pending: PendingEventStore,
        trust: TrustPolicy,
        visitor: VisitorHandler,
        clock: Clock,
        *,
        staff: CommandHandler,
        queue_room: RoomID,
        handovers: HandoverStore,
        handover: HandoverHandler,
    ) -> None:
        self.client = client
        self.cases = cases
        self.handled = handled
        self.pending = pending
        self.trust = trust
        self.visitor = visitor
        self.staff = staff
        self.queue_room = queue_room
        self.handovers = handovers
        self.handover = handover
        self.clock = clock
        self._failures: dict[str, int] = {}

    async def _target(self, room_id: RoomID) -> Target | None:
        if room_id == self.queue_room:
            return room_id
        case = await self.cases.by_room(room_id)
        if case is not None:
            return case
        handover = await self.handovers.by_room(room_id)
        if handover is not None:
            case = await self.cases.get(handover.case_id)
            return InHandover(handover, case) if case is not None else None
        return None

    async def on_room_event(self, room_id: RoomID, event: Event) -> None:
        if event.sender == self.client.user_id:
            return
        target = await self._target(room_id)
        if target is None:
            return
        if _is_state(event):
            if isinstance(target, InHandover):
                event_id = EventID(event.event_id)
                joined, gone = _who_joined(event), _who_left(event)
                if await self.handled.seen(event_id):
                    return
                if joined is not None:
                    await self.handover.on_member_joined(target.case, target.handover, event_id, *joined)
                elif gone is not None and gone == target.case.visitor:
                    await self.handover.on_visitor_left(target.case, target.handover, event_id)
                return
            gone = _who_left(event)
            if isinstance(target, Case) and gone is not None and not await self.handled.seen(EventID(event.event_id)):
                if gone == target.visitor:
                    await self._visitor_left(target, EventID(event.event_id))
                else:  # a counsellor walked out of a chat they had claimed: it must not be forgotten
                    await self.staff.on_counsellor_left(target, EventID(event.event_id), gone)
            return
        event_id = EventID(event.event_id)
        if await self.handled.seen(event_id):
            return
        if isinstance(event, MegolmEvent):
            await self.pending.add(event_id, room_id, event.source, millis(self.clock))
            return
        await self._guarded(room_id, target, event)

    async def _visitor_left(self, case: Case, event_id: EventID) -> None:
        # The session API closes the case (with its reason) before it erases the account.
        reason: Departure = "left"
        if case.state == "closed" and case.close_reason in ("ended", "quick_exit"):
            reason = "quick_exit" if case.close_reason == "quick_exit" else "ended"
        await self.visitor.on_visitor_left(case, event_id, reason)

    async def _guarded(self, room_id: RoomID, target: Target, event: Event) -> None:
        """Handle one event; one that keeps failing is recorded as failed, not retried forever."""
        try:
            await self._handle(room_id, target, event)
        except Exception:
            count = self._failures.get(event.event_id, 0) + 1
            self._failures[event.event_id] = count
            if count < FAILURES_BEFORE_SKIP:
                raise
            log.exception("Handling an event failed %d times; skipping it", count)
            await self.handled.record(EventID(event.event_id), room_id, "failed", millis(self.clock))
        else:
            self._failures.pop(event.event_id, None)

    async def _handle(self, room_id: RoomID, target: Target, event: Event) -> None:
        event_id = EventID(event.event_id)
        event_type, content = _type_and_content(event)
        sender = UserID(event.sender)
        if isinstance(target, InHandover):
            where = Where(room_id, target.case, target.handover)
            if sender == target.case.visitor:
                return  # talking with the partner and counsellor: nothing for the bot
        else:
            case = target if isinstance(target, Case) else None
            where = Where(room_id, case)
        case = where.case_room
        if not getattr(event, "decrypted", False):
            if where.case is None and event_type == "m.reaction":
                await self.staff.on_staff_event(where, event_id, sender, event_type, content)
                return
            await self.handled.record(event_id, room_id, "ignored_unencrypted", millis(self.clock))
            return
        if not await self._from_trusted_device(room_id, event):
            log.info("Ignoring a message from a device its owner has not cross-signed")
            await self.handled.record(event_id, room_id, "ignored_untrusted", millis(self.clock))
            return
        if case is not None and sender == case.visitor:
            await self.visitor.on_visitor_event(case, event_id, event_type, content)
        else:
            await self.staff.on_staff_event(where, event_id, sender, event_type, content)

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
            target = await self._target(parked.room_id)
            if target is not None and not await self.handled.seen(parked.event_id):
                await self._guarded(parked.room_id, target, decrypted)
            await self.pending.remove(parked.event_id)


def _type_and_content(event: Event) -> tuple[str, dict[str, Any]]:
    source = event.source if isinstance(event.source, dict) else {}
    content = source.get("content")
    return str(source.get("type", "")), content if isinstance(content, dict) else {}
