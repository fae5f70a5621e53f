"""Vetted texts (DESIGN.md "A counsellor's shift"): standard texts checked once, kept per
language in ``content/texts/<language>/<name>.md``. ``!texts`` lists them; ``!text <name>`` in a
chat posts one to the visitor, from the bot, in the visitor's language, or tells the counsellor
(never the visitor) that it is not there in that language."""

from __future__ import annotations

from typing import ClassVar
from zoneinfo import ZoneInfo

from bots.concern import Concern, Parts
from bots.declarations import Declared
from bots.triage import TriageDefinition
from bots.vetted.commands import TextCommands
from bots.vetted.library import load_library
from keerpunt.base.config import Config
from keerpunt.site.folder import content_dir


class VettedTexts:
    declares: ClassVar[Declared] = Declared()

    def __init__(self, config: Config, definition: TriageDefinition) -> None:
        self.config = config
        # Read and checked before anything starts: a broken file is a configuration error.
        self.library = load_library(content_dir(config) / "texts")

    async def build(self, parts: Parts) -> Concern:
        zone = ZoneInfo(self.config.hours.timezone)
        commands = TextCommands(parts.stores, self.library, zone, parts.staff_language)
        return Concern("vetted texts", commands=commands.commands)
