"""How the bot reads a reply to a triage question. Pure: no I/O, no message text.

A reply may be the structured ``nl.keerpunt.reply`` (``{"prompt", "option"}``), the option's
number from the plain-text fallback, or its label (in either language, case and accents
loosely). Anything else is free text: a short unknown answer gets one gentle re-ask; a longer
message, or a second unknown answer, ends triage so the visitor reaches the queue unblocked.
The free text itself is never kept.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from bots.triage.definition import Question, TriageDefinition

# A message longer than this is a visitor talking, not answering a question.
FREE_TEXT_WORDS = 6
FREE_TEXT_CHARS = 40


class Outcome(Enum):
    ANSWERED = "answered"  # an option was chosen
    SKIPPED = "skipped"  # the visitor chose "skip"
    REASK = "reask"  # not understood; ask the same question again, gently
    FREE_TEXT = "free_text"  # the visitor is talking: stop triage, go to the queue


@dataclass(frozen=True)
class Answer:
    outcome: Outcome
    option: str | None = None
    urgent: bool = False


@dataclass
class TriageState:
    """Where a case is in triage. Persisted by the caller as plain values."""

    index: int = 0
    answers: dict[str, str] = field(default_factory=dict)
    reasks: int = 0
    done: bool = False

    def current(self, definition: TriageDefinition) -> Question | None:
        if self.done or self.index >= len(definition.questions):
            return None
        return definition.questions[self.index]

    def apply(self, definition: TriageDefinition, answer: Answer) -> None:
        question = self.current(definition)
        if question is None:
            return
        if answer.outcome is Outcome.REASK:
            self.reasks += 1
            return
        if answer.outcome is Outcome.FREE_TEXT:
            self.done = True
            return
        self.answers[question.id] = answer.option or definition.skip.id
        self.index += 1
        self.reasks = 0
        if self.index >= len(definition.questions):
            self.done = True


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    kept = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(kept.replace("'", "").replace("’", "").split()).strip(" .!?")


def _choice(question: Question, definition: TriageDefinition, option_id: str) -> Answer | None:
    if option_id == definition.skip.id:
        return Answer(Outcome.SKIPPED, definition.skip.id)
    option = question.option(option_id)
    return Answer(Outcome.ANSWERED, option.id, option.urgent) if option else None


def interpret(
    definition: TriageDefinition,
    state: TriageState,
    *,
    body: str | None = None,
    reply: dict[str, Any] | None = None,
) -> Answer:
    """Read a visitor's reply to the current question of ``state``."""
    question = state.current(definition)
    if question is None:
        return Answer(Outcome.FREE_TEXT)
    if reply is not None and reply.get("prompt") == question.id and isinstance(reply.get("option"), str):
        found = _choice(question, definition, reply["option"])
        if found:
            return found
    text = (body or "").strip()
    numbered = [*question.options, definition.skip]
    if text.isdigit() and 1 <= int(text) <= len(numbered):
        return _choice(question, definition, numbered[int(text) - 1].id) or Answer(Outcome.REASK)
    folded = fold(text)
    for option in numbered:
        if folded and folded in {fold(label) for label in option.label.values()}:
            return _choice(question, definition, option.id) or Answer(Outcome.REASK)
    if len(text) > FREE_TEXT_CHARS or len(text.split()) >= FREE_TEXT_WORDS or state.reasks >= 1:
        return Answer(Outcome.FREE_TEXT)
    return Answer(Outcome.REASK)
