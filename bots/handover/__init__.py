"""The warm handover: the visitor's consent, the handover room with the partner, the follow-up
(DESIGN.md "Warm handover"; the protocol is docs/handover.md)."""

from __future__ import annotations

from typing import ClassVar

from bots.commands.table import Place
from bots.concern import Concern, Parts
from bots.declarations import Declared, Role, RoomKind
from bots.handover.commands import HandoverCommands
from bots.handover.domain import HandoverDomain
from bots.handover.handler import HandoverEvents
from bots.handover.rooms import HandoverMatrix
from bots.handover.worker import Federation, HandoverWorker
from bots.partners.directory import configured_directory
from bots.triage import TriageDefinition
from keerpunt.base.config import Config


class Handovers:
    # Handover rooms, where a partner's intake staff are partners (and nowhere else), and the
    # place the partners' commands work.
    declares: ClassVar[Declared] = Declared(
        rooms=(RoomKind("handover"),),
        roles=(Role("partner", local=True),),
        places=(Place("handover", frozenset({"handover"}), "commands.only_in_handover_room"),),
    )

    def __init__(self, config: Config, definition: TriageDefinition) -> None:
        self.config = config
        self.definition = definition
        # Read and checked before anything starts: a mistake is a configuration error (exit 78).
        self.directory = configured_directory(config, definition)

    async def build(self, parts: Parts) -> Concern:
        domain = HandoverDomain(parts.stores, self.directory, self.config)
        events = HandoverEvents(parts.stores, domain)
        commands = HandoverCommands(parts.stores, domain, self.definition)
        worker = HandoverWorker(
            parts.stores,
            domain,
            HandoverMatrix(parts.admin, parts.client),
            self.directory,
            Federation.of(self.config),
            set(parts.rooms.values()),
            parts.clock,
            parts.wakeups.to_send,
        )
        return Concern(
            "handover",
            rooms=(events.room,),
            visitor=(events.consent_answer,),
            members=(events.on_member,),
            roles=(events.role,),
            commands=commands.commands,
            workers=(worker,),
        )
