"""``!texts`` (anywhere staff work) and ``!text <name>`` (in a chat)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bots.commands.table import Call, Command, args
from bots.counsellors.counting import count_action
from bots.db import Stores
from bots.errors import UserError
from bots.matrix.content import visitor_message
from bots.texts import Language, as_language, text
from bots.vetted.library import Library

COUNSELLORS = frozenset({"counsellor"})
VETTED_KEY = "nl.keerpunt.vetted"


class TextCommands:
    def __init__(self, stores: Stores, library: Library, zone: ZoneInfo, language: Language) -> None:
        self.stores = stores
        self.library = library
        self.zone = zone
        self.language = language

    @property
    def commands(self) -> tuple[Command, ...]:
        return (
            Command("texts", args(""), "staff", self.list_texts, COUNSELLORS),
            Command("text", args("name:word"), "case", self.send_text, COUNSELLORS),
        )

    async def list_texts(self, call: Call) -> str | None:
        if not self.library.names:
            return text(self.language, "vetted.none")
        lines = [text(self.language, "vetted.header")]
        for name in self.library.names:
            found = self.library.texts[name]
            shown = found.get(self.language) or next(iter(found.values()))
            languages = ", ".join(sorted(found))
            lines.append(text(self.language, "vetted.line", name=name, title=shown.title, languages=languages))
        return "\n".join(lines)

    async def send_text(self, call: Call) -> str | None:
        """Posted by the bot in the visitor's language; refused to the counsellor alone (an
        answer to a command in a chat goes under the card) when it is not there."""
        case = call.case
        name = call.values["name"]
        if name not in self.library.texts:
            raise UserError("vetted.unknown", name=name, names=", ".join(self.library.names))
        language = as_language(case.language, "nl")
        vetted = self.library.get(name, language) if language == case.language else None
        if vetted is None or case.room_id is None:
            raise UserError("vetted.untranslated", name=name, visitor_language=case.language)
        content = visitor_message(vetted.message, "vetted.text")
        content[VETTED_KEY] = {"name": name}
        await self.stores.outbox.enqueue(case.room_id, "m.room.message", content, call.now)
        await count_action(self.stores, self.zone, call.now, name, measure="vetted_texts")
        return None
