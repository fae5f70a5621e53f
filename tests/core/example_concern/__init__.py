"""A concern that lives outside ``bots/`` and edits no central file: supervision.

It declares a staff room the bot makes at start (supervisors only), the role that joins it,
a place (that room) and a command usable there, with its help and answers in Dutch and English
in its own text files. Nothing in ``bots/`` names it; ``tests/core/test_a_new_concern.py``
plugs it in beside the others.
"""

from __future__ import annotations

from importlib import resources
from typing import ClassVar

from bots.commands.table import Call, Command, Place
from bots.concern import Concern, Parts
from bots.declarations import Declared, Role, RoomKind
from bots.ids import RoomID
from bots.texts import text
from bots.triage import TriageDefinition
from bots.turn import Where
from keerpunt.base.config import Config

SUPERVISORS = frozenset({"supervisor"})


class Supervision:
    declares: ClassVar[Declared] = Declared(
        rooms=(RoomKind("supervision", staff_only=True, made_at_start=True),),
        roles=(Role("supervisor", rooms=("supervision",)),),
        places=(Place("supervision", frozenset({"supervision"}), "supervision.only_here"),),
        texts=resources.files(__name__) / "texts",
    )

    def __init__(self, config: Config, definition: TriageDefinition) -> None:
        self.language = config.languages.default

    async def build(self, parts: Parts) -> Concern:
        room = parts.rooms["supervision"]
        stores = parts.stores

        async def supervision_room(room_id: RoomID) -> Where | None:
            return Where(room_id, "supervision") if room_id == room else None

        async def load(call: Call) -> str | None:
            waiting = len(await stores.queue.workflow.in_stage("waiting"))
            claimed = len(await stores.queue.workflow.in_stage("claimed"))
            return text(self.language, "supervision.load", waiting=waiting, claimed=claimed)

        return Concern(
            "supervision",
            rooms=(supervision_room,),
            commands=(Command("load", (), "supervision", load, SUPERVISORS),),
        )
