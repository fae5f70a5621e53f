"""The visitor's consent to a handover, as a Matrix message and as the answer read back. Pure.

The question is one ``m.text`` message: a plain list of the answers (what a plain client
shows) plus the structured ``nl.keerpunt.prompt`` the widget turns into buttons, like a triage
question. Only an unambiguous answer counts: a button of this very question (its prompt id
names the handover) or an answer's whole label (in either language, loosely). Not a number:
"1" is too easily an answer to something the counsellor asked. Anything else is the visitor
talking to the counsellor and is not read as an answer — consent is never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from bots.partners.directory import Partner
from bots.texts import FALLBACK, LANGUAGES, Language, text
from bots.triage.engine import fold
from bots.triage.prompts import PROMPT_KEY, REPLY_KEY

PROMPT_PREFIX = "handover:"
HANDOVER_KEY = "nl.keerpunt.handover"
Answer = Literal["yes", "no", "later"]
ANSWERS: tuple[Answer, ...] = ("yes", "no", "later")


@dataclass(frozen=True)
class Reply:
    answer: Answer
    # The handover a button answered (its prompt id names it); None for a typed label.
    handover_id: str | None


def consent_content(language: Language, partner: Partner, summary: str, handover_id: str) -> dict[str, Any]:
    """The question; its prompt id names the handover, so an old question's button never
    answers a newer one (a counsellor may ask again, about another partner)."""
    labels = [text(language, f"handover.options.{answer}") for answer in ANSWERS]
    body = text(
        language,
        "handover.visitor.consent",
        partner=partner.name,
        description=partner.description.get(language, partner.description[FALLBACK]),
        summary=summary,
        labels=labels,
    )
    return {
        "msgtype": "m.text",
        "body": body.rstrip(),
        PROMPT_KEY: {
            "id": PROMPT_PREFIX + handover_id,
            "options": [{"id": answer, "label": label} for answer, label in zip(ANSWERS, labels, strict=True)],
        },
        HANDOVER_KEY: {"partner": partner.name},
        "nl.keerpunt.message": "handover.consent",
    }


def read_answer(event_type: str, content: dict[str, Any]) -> Reply | None:
    """The visitor's answer to a consent question, or None when the message is not one."""
    if event_type != "m.room.message":
        return None
    reply = content.get(REPLY_KEY)
    if isinstance(reply, dict):
        prompt = reply.get("prompt")
        if not isinstance(prompt, str) or not prompt.startswith(PROMPT_PREFIX):
            return None  # a button of another question
        option = reply.get("option")
        answer = next((answer for answer in ANSWERS if answer == option), None)
        return Reply(answer, prompt.removeprefix(PROMPT_PREFIX)) if answer else None
    body = content.get("body")
    if not isinstance(body, str):
        return None
    typed = _loose(body)
    for answer in ANSWERS:
        if typed and typed in {_loose(text(language, f"handover.options.{answer}")) for language in LANGUAGES}:
            return Reply(answer, None)
    return None


def _loose(label: str) -> str:
    """Case, accents, commas and spacing do not matter; words and their order do."""
    return " ".join(fold(label).replace(",", " ").split())
