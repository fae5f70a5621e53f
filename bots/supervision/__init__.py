"""Open supervision (DESIGN.md "A counsellor's shift"): a supervisor (a counsellor with the
supervisor flag, ``keerpunt staff add … --supervisor``) reads along in a colleague's chat as a
visible, named member, and the visitor is told so, before it starts and when it ends. What the
supervisor writes in the card's thread reaches the counsellor with a mention, never the visitor.

A supervisor reads only what is written after they joined: the case room shows history to
members from their join on, and room keys reach a new member's devices only for what is sent
after that (docs/privacy.md, "Who can read a conversation")."""

from __future__ import annotations

from typing import ClassVar
from zoneinfo import ZoneInfo

from bots.concern import Concern, Parts
from bots.declarations import Declared
from bots.supervision.domain import Supervising
from bots.supervision.edge import SupervisionEdge
from bots.supervision.worker import WatchReconciler
from bots.triage import TriageDefinition
from keerpunt.base.config import Config


class Supervision:
    declares: ClassVar[Declared] = Declared()

    def __init__(self, config: Config, definition: TriageDefinition) -> None:
        self.config = config

    async def build(self, parts: Parts) -> Concern:
        domain = Supervising(parts.stores, parts.staff_language, ZoneInfo(self.config.hours.timezone))
        edge = SupervisionEdge(parts.stores, domain, parts.staff_language)
        worker = WatchReconciler(parts.stores, parts.admin, parts.wakeups.to_send)
        return Concern(
            "supervision",
            messages=(edge.whisper,),
            members=(edge.on_member,),
            commands=edge.commands,
            workers=(worker,),
        )
