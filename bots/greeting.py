"""The greeting (DESIGN.md rule 7): the visitor speaks first, the bot answers once.

When the visitor's first event arrives in the case room — the encrypted ``nl.keerpunt.start``
or any message — the bot queues the welcome text in the visitor's language. The handled
event, the case's ``greeted_at`` and the outbox row are written in one transaction, so
across crashes and restarts every visitor event is handled once and the greeting is sent
exactly once. Triage (issue 4) hooks in here.
"""

from __future__ import annotations

from typing import Any

from mautrix.util.async_db import Database

from .clock import Clock, millis
from .db import transaction
from .db.case import Case, CaseStore
from .db.handled_event import HandledEventStore
from .db.outbox import OutboxStore
from .ids import EventID
from .matrix.outbox import OutboxSender
from .texts import LANGUAGES, Language, text

START_EVENT = "nl.keerpunt.start"


def greeting_content(language: Language) -> dict[str, Any]:
    return {"msgtype": "m.text", "body": text(language, "greeting.welcome"), "nl.keerpunt.message": "greeting"}


def start_language(event_type: str, content: dict[str, Any], fallback: str) -> Language:
    """The language the visitor asked for in ``nl.keerpunt.start``; else the case's."""
    wanted = content.get("language") if event_type == START_EVENT else None
    for language in LANGUAGES:
        if wanted == language:
            return language
    for language in LANGUAGES:
        if fallback == language:
            return language
    return LANGUAGES[0]


class GreetingHandler:
    def __init__(
        self,
        db: Database,
        cases: CaseStore,
        handled: HandledEventStore,
        outbox: OutboxStore,
        sender: OutboxSender,
        clock: Clock,
    ) -> None:
        self.db = db
        self.cases = cases
        self.handled = handled
        self.outbox = outbox
        self.sender = sender
        self.clock = clock

    async def on_visitor_event(self, case: Case, event_id: EventID, event_type: str, content: dict[str, Any]) -> None:
        assert case.room_id is not None
        language = start_language(event_type, content, case.language)
        now = millis(self.clock)
        queued = False
        async with transaction(self.db):
            if not await self.handled.record(event_id, case.room_id, "handled", now):
                return  # handled before (a replayed batch after a restart)
            if await self.cases.mark_greeted(case.id, language, now):
                await self.outbox.enqueue(case.room_id, "m.room.message", greeting_content(language), now)
                queued = True
        if queued:
            self.sender.wake()
