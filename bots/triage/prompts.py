"""The triage questions as Matrix messages: a numbered plain-text fallback (what Element shows)
plus the structured ``nl.keerpunt.prompt`` in the same content (what the widget turns into
buttons). The numbers match what ``engine.interpret`` accepts: the options in order, then
"skip". Pure.
"""

from __future__ import annotations

from typing import Any

from bots.texts import Language, text
from bots.triage.definition import Option, Question, TriageDefinition

PROMPT_KEY = "nl.keerpunt.prompt"
REPLY_KEY = "nl.keerpunt.reply"


def _choices(definition: TriageDefinition, question: Question) -> list[Option]:
    return [*question.options, definition.skip]


def question_content(
    definition: TriageDefinition, question: Question, language: Language, *, lead: str | None = None
) -> dict[str, Any]:
    """The question, optionally after a lead text (the intro, or the gentle re-ask)."""
    choices = _choices(definition, question)
    body = text(
        language, "triage.question", question=question.text[language], labels=[o.label[language] for o in choices]
    )
    return {
        "msgtype": "m.text",
        "body": f"{lead}\n\n{body}" if lead else body,
        PROMPT_KEY: {"id": question.id, "options": [{"id": o.id, "label": o.label[language]} for o in choices]},
        "nl.keerpunt.message": "triage.question",
    }


def reply_parts(event_type: str, content: dict[str, Any]) -> tuple[str | None, dict[str, Any] | None]:
    """The typed text and the structured reply of a visitor's message (either may be missing)."""
    if event_type != "m.room.message":
        return None, None
    body = content.get("body")
    reply = content.get(REPLY_KEY)
    return (body if isinstance(body, str) else None), (reply if isinstance(reply, dict) else None)
