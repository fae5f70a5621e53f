"""Routes the room events of each sync batch to the concerns, each exactly once.

The concerns say which rooms are theirs (the queue room, case rooms, handover rooms). For an
event in one of them:

- still encrypted (its room key has not arrived): parked in ``pending_event`` and tried
  again after later batches, soon at first and then less often, at most ``MAX_TRIES`` times
  and never past ``GIVE_UP_MS``; then it is recorded as undecryptable and counted in one log
  line without identifiers. A room holds at most ``MAX_PARKED_PER_ROOM`` waiting events (more
  are recorded as undecryptable at once), so a flood of them costs a bounded amount of work;
- a membership change (join or leave): the concerns' member hooks;
- sent unencrypted, or from a device its owner has not cross-signed (DESIGN.md rule 3):
  recorded as ignored, never acted on — except a reaction outside case rooms: clients send
  ``m.reaction`` in the clear, so a 👍 on a card counts from any device of a staff member
  (it only claims; room keys still reach cross-signed devices only);
- from the visitor in their case room: the visitor hooks, in the concerns' order, until one
  takes it; in any other room nothing the visitor writes is for the bot;
- from anyone else: the reaction hooks, or the staff commands.

Exactly-once lives here and only here: each event is handled in one transaction that first
records it in ``handled_event`` (a replayed batch finds it and does nothing) and then lets
the hooks write their effects; after the commit the workers are woken and the turn's
post-commit actions run.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from nio import EncryptionError, Event, MegolmEvent

from bots.clock import Clock, millis
from bots.commands.dispatch import StaffCommands
from bots.concern import Concern
from bots.crypto.ports import Trust
from bots.db import Stores
from bots.ids import EventID, RoomID, UserID
from bots.matrix.ports import MatrixClient
from bots.turn import Membership, Turn, Where, membership_of

log = logging.getLogger(__name__)

GIVE_UP_MS = 15 * 60 * 1000
FAILURES_BEFORE_SKIP = 3
# Parked encrypted events: the first retries after the very next batches (a room key usually
# follows its message within a batch or two), then after a wait that doubles up to a cap.
SOON_TRIES = 3
RETRY_FIRST_MS = 2_000
RETRY_MAX_MS = 120_000
MAX_TRIES = 15
MAX_PARKED_PER_ROOM = 100


def next_try(tries: int, now: int) -> int:
    """When a parked event that failed ``tries`` times is tried again."""
    if tries < SOON_TRIES:
        return now
    return now + min(RETRY_MAX_MS, RETRY_FIRST_MS << (tries - SOON_TRIES))


class Router:
    def __init__(
        self,
        stores: Stores,
        client: MatrixClient,
        trust: Trust,
        clock: Clock,
        changed: Callable[[], None],
        concerns: Sequence[Concern],
        commands: StaffCommands,
        kinds: frozenset[str],
    ) -> None:
        self.stores = stores
        self.client = client
        self.trust = trust
        self.clock = clock
        # After a commit: wake the sender and the workers.
        self.changed = changed
        self.commands = commands
        # The room kinds the concerns declared: a lookup answering another is a bug.
        self.kinds = kinds
        self.lookups = [lookup for concern in concerns for lookup in concern.rooms]
        self.messages = [hook for concern in concerns for hook in concern.messages]
        self.visitor = [hook for concern in concerns for hook in concern.visitor]
        self.members = [hook for concern in concerns for hook in concern.members]
        self.reactions = [hook for concern in concerns for hook in concern.reactions]
        self.devices = [hook for concern in concerns for hook in concern.devices]
        self._failures: dict[str, int] = {}
        # Parked encrypted events: how often each was tried and when next (memory only: after a
        # restart they start again, still ending at GIVE_UP_MS after they were first seen).
        self._tries: dict[str, tuple[int, int]] = {}

    async def where(self, room_id: RoomID) -> Where | None:
        for lookup in self.lookups:
            found = await lookup(room_id)
            if found is not None:
                if found.kind not in self.kinds:
                    raise LookupError(f"a room of a kind no concern declares: {found.kind!r}")
                return found
        return None

    async def on_room_event(self, room_id: RoomID, event: Event) -> None:
        if event.sender == self.client.user_id:
            return
        where = await self.where(room_id)
        if where is None:
            return
        source: dict[str, Any] = event.source if isinstance(event.source, dict) else {}
        if "state_key" in source:
            change = membership_of(source)
            if change is not None:
                await self._membership(self._turn_of(where, event), change)
            return
        event_id = EventID(event.event_id)
        if await self.stores.handled.seen(event_id):
            return
        if isinstance(event, MegolmEvent):
            now = millis(self.clock)
            if await self.stores.pending.count_in_room(room_id) >= MAX_PARKED_PER_ROOM:
                await self.stores.handled.record(event_id, room_id, "undecryptable", now)
                log.warning("An encrypted event was not kept for later: its room has too many waiting already")
                return
            await self.stores.pending.add(event_id, room_id, event.source, now)
            return
        await self._guarded(where, event)

    def _turn_of(self, where: Where, event: Event) -> Turn:
        source = event.source if isinstance(event.source, dict) else {}
        content = source.get("content")
        return Turn(
            where,
            EventID(event.event_id),
            UserID(event.sender),
            str(source.get("type", "")),
            content if isinstance(content, dict) else {},
            millis(self.clock),
        )

    async def _turn(self, turn: Turn, act: Callable[[Turn], Awaitable[None]]) -> None:
        """``act`` on the event inside the transaction that records it; once, ever."""
        async with self.stores.transaction():
            if not await self.stores.handled.record(turn.event_id, turn.where.room_id, "handled", turn.now):
                return  # handled before (a replayed batch after a restart)
            await act(turn)
        await self._committed(turn)

    async def _membership(self, turn: Turn, change: Membership) -> None:
        """Like ``_turn``, but recorded only when a hook acted on it: the many joins and leaves
        that matter to nobody leave no trace."""
        async with self.stores.transaction():
            if await self.stores.handled.seen(turn.event_id):
                return
            acted = [await hook(turn, change) for hook in self.members]
            if not any(acted):
                return
            await self._record(turn, "handled")
        await self._committed(turn)

    async def _committed(self, turn: Turn) -> None:
        self.changed()
        for action in turn.after:
            await action()

    async def _record(self, turn: Turn, outcome: Any) -> None:
        await self.stores.handled.record(turn.event_id, turn.where.room_id, outcome, turn.now)

    async def _message(self, turn: Turn) -> None:
        for hook in self.messages:
            await hook(turn)

    async def _visitor(self, turn: Turn) -> None:
        case = turn.where.case
        if case is None or case.state != "open":
            return  # sent just before the session ended: nobody is there to answer
        await self._message(turn)
        for hook in self.visitor:
            if await hook(turn):
                return

    async def _reaction(self, turn: Turn) -> None:
        for hook in self.reactions:
            await hook(turn)

    async def _staff(self, turn: Turn) -> None:
        await self._message(turn)
        await self.commands.on_message(turn)

    async def _guarded(self, where: Where, event: Event) -> None:
        """Handle one event; one that keeps failing is recorded as failed, not retried forever."""
        try:
            await self._handle(where, event)
        except Exception:
            count = self._failures.get(event.event_id, 0) + 1
            self._failures[event.event_id] = count
            if count < FAILURES_BEFORE_SKIP:
                raise
            log.exception("Handling an event failed %d times; skipping it", count)
            await self.stores.handled.record(EventID(event.event_id), where.room_id, "failed", millis(self.clock))
        else:
            self._failures.pop(event.event_id, None)

    async def _handle(self, where: Where, event: Event) -> None:
        turn = self._turn_of(where, event)
        visitor = where.case.visitor if where.case is not None else None
        if turn.sender == visitor and where.kind != "case":
            return  # talking with the partner and counsellor: nothing for the bot
        if not getattr(event, "decrypted", False):
            if turn.type == "m.reaction" and where.case_room is None:
                turn.encrypted = False
                await self._turn(turn, self._reaction)
                return
            await self._record(turn, "ignored_unencrypted")
            return
        if not await self.trust.sent_by_trusted_device(self.client, where.room_id, event):
            log.info("Ignoring a message from a device its owner has not cross-signed")
            await self._record(turn, "ignored_untrusted")
            return
        if turn.sender == visitor:
            await self._turn(turn, self._visitor)
        elif turn.type == "m.reaction":
            await self._turn(turn, self._reaction)
        else:
            try:
                await self._turn(turn, self._staff)
            except Exception as exc:
                await self.commands.failed(turn, exc)

    async def on_devices_changed(self, users: list[UserID]) -> None:
        for hook in self.devices:
            await hook(users)

    async def after_batch(self) -> None:
        """Try the parked encrypted events that are due again, now that more room keys may have
        arrived; give up on those tried too often or too long."""
        now = millis(self.clock)
        gave_up = 0
        for parked in await self.stores.pending.all():
            tries, due = self._tries.get(parked.event_id, (0, now))
            if due > now:
                continue
            event = Event.parse_event(parked.source)
            if not isinstance(event, MegolmEvent):
                await self._unpark(parked.event_id)
                continue
            event.room_id = parked.room_id
            try:
                decrypted = self.client.decrypt_event(event)
            except EncryptionError:
                tries += 1
                if tries >= MAX_TRIES or now - parked.first_seen > GIVE_UP_MS:
                    await self.stores.handled.record(parked.event_id, parked.room_id, "undecryptable", now)
                    await self._unpark(parked.event_id)
                    gave_up += 1
                else:
                    self._tries[parked.event_id] = (tries, next_try(tries, now))
                continue
            where = await self.where(parked.room_id)
            if where is not None and not await self.stores.handled.seen(parked.event_id):
                await self._guarded(where, decrypted)
            await self._unpark(parked.event_id)
        if gave_up:
            log.warning("Gave up on %d encrypted event(s) whose room key never arrived", gave_up)

    async def _unpark(self, event_id: EventID) -> None:
        await self.stores.pending.remove(event_id)
        self._tries.pop(event_id, None)
