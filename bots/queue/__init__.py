"""The queue: the visitor's greeting and triage, the waiting line, the claim, the card in the
staff queue room, and the counsellor's commands (DESIGN.md "Triage, queue and counsellors")."""

from __future__ import annotations

from typing import ClassVar

from bots.concern import Concern, Parts
from bots.declarations import Declared, Role, RoomKind
from bots.ids import RoomID
from bots.queue.commands import StaffSide
from bots.queue.dismiss import Dismissal
from bots.queue.domain import QueueDomain
from bots.queue.lifecycle import Lifecycle
from bots.queue.reminding import QueueReminders
from bots.queue.rooms import StaffMatrix
from bots.queue.space import SpaceRotation
from bots.queue.visitor import VisitorSide
from bots.queue.workers.access import AccessReconciler
from bots.queue.workers.cards import CardReconciler
from bots.queue.workers.departures import Departures
from bots.queue.workers.erasure import Erasure
from bots.queue.workers.notices import VisitorNotices
from bots.queue.workers.relay import Relay
from bots.queue.workers.reminders import Reminders
from bots.queue.workers.sessions import NewSessions
from bots.triage import TriageDefinition
from bots.turn import Where
from bots.visitors.accounts import VisitorAccounts
from keerpunt.base.config import Config


class Queue:
    # The queue room, for counsellors only, made at start.
    declares: ClassVar[Declared] = Declared(
        rooms=(RoomKind("queue", staff_only=True, made_at_start=True),),
        roles=(Role("counsellor", rooms=("queue",)),),
    )

    def __init__(self, config: Config, definition: TriageDefinition) -> None:
        self.config = config
        self.definition = definition

    async def build(self, parts: Parts) -> Concern:
        stores, clock, cfg = parts.stores, parts.clock, self.config
        changed, to_send = parts.wakeups.changed, parts.wakeups.to_send
        queue_room, space = parts.rooms["queue"], parts.rooms["space"]
        domain = QueueDomain(stores, self.definition, cfg, parts.hours)
        matrix = StaffMatrix(parts.admin, parts.bot, cfg.homeserver.server_name, space)
        visitor = VisitorSide(stores, domain, self.definition, parts.hours, cfg.portal.public_url, parts.limits)
        staff = StaffSide(stores, domain, cfg, matrix.redact, parts.trust, queue_room, clock)
        accounts = VisitorAccounts(parts.admin, stores.cases, clock)
        # The reconcilers, one job each; a committed change wakes them all.
        workers = (
            Departures(stores, domain, clock, to_send),
            CardReconciler(stores, domain, parts.hours.zone, queue_room, matrix.redact, clock, to_send),
            AccessReconciler(stores, matrix, SpaceRotation(stores, parts.staff_rooms, parts.admin, matrix, clock)),
            Reminders(stores, QueueReminders(domain, parts.hours), clock, changed),
            VisitorNotices(stores, domain, parts.hours, cfg.portal.public_url, clock, to_send),
            Erasure(stores, accounts.erase, clock, cfg.queue.erase_after_minutes),
        )
        lifecycle = Lifecycle(stores, cfg, clock, to_send)
        relay = Relay(stores, parts.client, parts.trust, cfg.languages.default, clock, to_send)
        sessions = NewSessions(stores, parts.trust, changed)

        async def the_queue_room(room_id: RoomID) -> Where | None:
            return Where(room_id, "queue") if room_id == queue_room else None

        return Concern(
            "queue",
            rooms=(the_queue_room,),
            messages=(lifecycle.on_message, staff.trace),
            visitor=(visitor.on_visitor,),
            members=(visitor.on_member, staff.on_member, relay.on_member),
            reactions=(staff.on_reaction,),
            identity=(staff.identity_changed,),
            pinned=(sessions.identity_pinned,),
            devices=(sessions.devices_changed,),
            commands=(*staff.commands, *Dismissal(stores, parts.networks, cfg).commands),
            workers=(*workers, sessions, lifecycle, relay),
        )
