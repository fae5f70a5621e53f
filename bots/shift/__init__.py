"""A counsellor's shift: breaks (``!pause`` / ``!resume``), their own limit of simultaneous chats
(``!capacity``), and who is available, busy or on a break in the staff Space (DESIGN.md "A
counsellor's shift"). The queue reads the same state (``bots.counsellors``) for claims,
``!next``, its reminders and the "nobody is there" notice."""

from __future__ import annotations

from typing import ClassVar
from zoneinfo import ZoneInfo

from bots.concern import Concern, Parts
from bots.counsellors.roster import Roster
from bots.declarations import Declared
from bots.shift.commands import ShiftCommands
from bots.shift.space import SpaceBoard
from bots.triage import TriageDefinition
from keerpunt.base.config import Config


class Shift:
    declares: ClassVar[Declared] = Declared()

    def __init__(self, config: Config, definition: TriageDefinition) -> None:
        self.config = config

    async def build(self, parts: Parts) -> Concern:
        cfg = self.config
        roster = Roster(parts.stores, cfg.queue.max_chats_per_counsellor)
        zone = ZoneInfo(cfg.hours.timezone)
        commands = ShiftCommands(parts.stores, roster, zone, parts.staff_language)
        board = SpaceBoard(roster, parts.admin, parts.rooms["space"], parts.staff_language)
        return Concern("shift", commands=commands.commands, workers=(board,))
