"""The greeting (DESIGN.md rule 7): the visitor speaks first, the bot answers once.

When the visitor's first event arrives in the case room — the encrypted ``nl.keerpunt.start``
or any message — the bot queues the welcome text in the visitor's language. The handled
event, the case's ``greeted_at`` and the outbox row are written in one transaction (by
``bots.queue.visitor``, which goes on with the triage questions in that same turn), so
across crashes and restarts every visitor event is handled once and the greeting is sent
exactly once.
"""

from __future__ import annotations

from typing import Any

from bots.texts import LANGUAGES, Language, text

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
