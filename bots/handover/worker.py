"""The handover worker: makes Synapse catch up with the consents the database recorded.

Each round looks only at stored state, so a restart (or a SIGKILL) carries on where the last
round stopped, and every step is recorded before the next begins (docs/handover.md):

1. ``creating_at`` is written, then the room is made with everyone invited in the same
   request. After a crash before its ID was saved, the room is found again by its marker
   among the bot's rooms that no record knows, instead of making a second one.
2. The room ID is saved; every party without a membership is invited (never a second time).
3. Once the bot's own client sees every invited party in the room (so the room key reaches
   their devices), the introduction and the agreed summary go to the outbox, once.

It also sends the counsellors' follow-up reminders, takes the staff of a partner who declined
out of the room, and lets a consent lapse when the visitor left before their room was made.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from bots.clock import Clock, millis
from bots.concern import Reconciler
from bots.db import Stores
from bots.db.case import Case
from bots.db.handover import Handover
from bots.failpoints import crash_point
from bots.handover.domain import HandoverDomain
from bots.handover.rooms import HandoverMatrix, NotAllowed, check_servers, handover_room_body
from bots.homeserver.admin import SynapseError
from bots.ids import RoomID, UserID
from bots.partners.directory import Directory
from keerpunt.base.config import Config

log = logging.getLogger(__name__)

IDLE_WAIT = 5.0
BUSY_WAIT = 0.25
RETRY_CAP = 30.0


@dataclass(frozen=True)
class Federation:
    """Who makes handover rooms, and which servers a partner's intake staff may be on."""

    bot: UserID
    server_name: str
    allowlist: tuple[str, ...]

    @classmethod
    def of(cls, config: Config) -> Federation:
        return cls(
            UserID(config.bot_user_id), config.homeserver.server_name, tuple(config.synapse.federation_allowlist)
        )


class HandoverWorker(Reconciler):
    name = "handover"
    title = "The handover worker"
    busy = BUSY_WAIT
    idle = IDLE_WAIT
    cap = RETRY_CAP

    def __init__(
        self,
        stores: Stores,
        domain: HandoverDomain,
        matrix: HandoverMatrix,
        directory: Directory,
        federation: Federation,
        system_rooms: AbstractSet[RoomID],
        clock: Clock,
        to_send: Callable[[], None],
    ) -> None:
        super().__init__()
        self.stores = stores
        self.cases = stores.cases
        self.queue = stores.queue.workflow
        self.store = stores.handovers
        self.domain = domain
        self.matrix = matrix
        self.directory = directory
        self.bot = federation.bot
        self.server_name = federation.server_name
        self.allowlist = federation.allowlist
        # Rooms no handover room can be (found again after a crash among the bot's rooms).
        self.system_rooms = frozenset(system_rooms)
        self.clock = clock
        self.sent = to_send
        # Handovers whose last step failed in Synapse: (failures so far, not before this time).
        self._failing: dict[str, tuple[int, float]] = {}

    async def step(self) -> bool:
        """One round; True when a room is still on its way (come back soon)."""
        now = millis(self.clock)
        busy = False
        for handover in await self.store.rooms_to_make():
            failures, not_before = self._failing.get(handover.id, (0, 0.0))
            if self.clock.monotonic() < not_before:
                busy = True
                continue
            try:
                busy = await self._room(handover, now) or busy
            except SynapseError as exc:
                # Each handover backs off on its own, so one partner server that is down
                # neither hammers Synapse nor holds up the other handovers.
                delay = min(BUSY_WAIT * 2 ** (failures + 1), RETRY_CAP)
                self._failing[handover.id] = (failures + 1, self.clock.monotonic() + delay)
                log.warning("A step of a handover room failed (%s); trying again in %.1fs", exc.errcode, delay)
                busy = True
            else:
                self._failing.pop(handover.id, None)
        busy = await self._remove_declined(now) or busy
        await self._reminders(now)
        return busy

    async def _remove_declined(self, now: int) -> bool:
        """A partner who declined no longer reads along: its intake staff leave the room."""
        busy = False
        for handover in await self.store.partners_to_remove():
            assert handover.room_id is not None
            try:
                await self.matrix.remove(handover.room_id, await self.domain.intake(handover.partner_id))
            except SynapseError as exc:
                log.warning("Could not take a declining partner out of its room (%s); trying again", exc.errcode)
                busy = True
                continue
            await self.store.partner_removed(handover.id, now)
        return busy

    async def _room(self, handover: Handover, now: int) -> bool:
        case = await self.cases.get(handover.case_id)
        assert case is not None and case.visitor is not None
        partner = self.directory.get(handover.partner_id)
        q = await self.queue.get(case.id)
        gone = case.state != "open" or q is None or q.departure is not None
        if handover.room_id is None and handover.creating_at is None and (gone or partner is None):
            if partner is None:
                log.error("Partner %s is no longer in the directory; the handover lapses", handover.partner_id)
            async with self.stores.transaction():
                await self.domain.cancel(case, handover, now)
            return False
        if partner is None:
            log.error(
                "Partner %s is no longer in the directory; its handover room is left as it is", handover.partner_id
            )
            return False
        parties = await self._parties(case, handover)
        try:
            federate = check_servers(parties, self.server_name, self.allowlist)
        except NotAllowed as exc:  # the directory loader refuses this; never invite such a server
            log.error("Refusing to invite users of %s: not in synapse.federation_allowlist", exc)
            return False
        room = handover.room_id or await self._make(handover, parties, federate, now)
        if handover.invited_at is None:
            invited = await self.matrix.invite_missing(room, parties)
            if invited:
                log.info("Invited %d party/parties to a handover room after a restart", len(invited))
            await self.store.invited(handover.id, now)
            crash_point("handover.invited")
        present = {
            UserID(user)
            for user, membership in (await self.matrix.memberships(room)).items()
            if membership in ("invite", "join") and user in parties
        }
        if not self.matrix.sees(room, present):
            return True  # the next sync brings the room and its members to the bot's client
        async with self.stores.transaction():
            fresh = await self.store.get(handover.id)
            if fresh is None or fresh.posted_at is not None or fresh.summary is None:
                return False
            await self.domain.introduce(case, fresh, now)
        self.sent()
        log.info("Handover room of case %s is ready", case.number)
        return False

    async def _make(self, handover: Handover, parties: list[UserID], federate: bool, now: int) -> RoomID:
        room: RoomID | None = None
        if handover.creating_at is not None:  # a try before a crash may have made it already
            known = self.system_rooms | await self.cases.room_ids() | await self.store.room_ids()
            room = await self.matrix.find(handover.id, known)
            if room is not None:
                log.info("Found the handover room made before a restart")
        if room is None:
            await self.store.creating(handover.id, now)
            crash_point("handover.creating")
            invite = [user for user in parties if user != self.bot]
            body = handover_room_body(self.bot, handover.id, handover.counsellor, invite, federate=federate)
            room = await self.matrix.create(body)
            crash_point("handover.after_create")
        await self.store.room_made(handover.id, room)
        crash_point("handover.room_saved")
        return room

    async def _parties(self, case: Case, handover: Handover) -> list[UserID]:
        assert case.visitor is not None
        parties = [case.visitor, handover.counsellor]
        parties += [user for user in await self.domain.intake(handover.partner_id) if user not in parties]
        return parties

    async def _reminders(self, now: int) -> None:
        for handover in await self.store.due_reminders(now):
            case = await self.cases.get(handover.case_id)
            assert case is not None
            async with self.stores.transaction():
                sent = await self.domain.remind(case, handover, now)
            if sent:
                log.info("Reminded a counsellor of an open handover")
                self.sent()
