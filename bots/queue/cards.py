"""The case card and other staff views of a case, rendered from enumerated values only. Pure.

Everything on a card is an id looked up in the triage definition or the text catalogue (an
option label, an entry kind, a stage, a departure) or a number, a time or a staff Matrix
ID: never anything a visitor typed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bots.db.queue.workflow import Departure, Stage
from bots.texts import Language, has_text, language_label, text
from bots.texts.moments import from_millis, minutes_between, phrase
from bots.triage import TriageDefinition
from bots.triage.labels import field_name


@dataclass(frozen=True)
class CaseFacts:
    number: str
    stage: Stage
    urgent: bool
    answers: Mapping[str, str]
    entry: str
    campaign: str | None
    waiting_since: int | None
    claimed_by: str | None
    outcome: str | None
    departure: Departure | None
    # The organisation of the outreach worker an invite routed the case to.
    organisation: str | None = None
    # A message left to be answered later (docs/write-later.md).
    later: LaterFacts | None = None
    # The language the visitor chats in (from the session's start).
    language: str = "nl"


@dataclass(frozen=True)
class LaterFacts:
    reason: str  # 'closed' or 'long_wait'
    written_at: int
    came_back: bool


def answer_label(definition: TriageDefinition, language: Language, question_id: str, answers: Mapping[str, str]) -> str:
    option_id = answers.get(question_id)
    if option_id is None:
        return text(language, "queue.card.unanswered")
    if option_id == definition.skip.id:
        return text(language, "queue.card.skipped")
    question = definition.question(question_id)
    option = question.option(option_id) if question else None
    return option.label[language] if option else text(language, "queue.card.unanswered")


def answer_lines(definition: TriageDefinition, language: Language, answers: Mapping[str, str]) -> list[str]:
    return [
        text(
            language,
            "queue.card.line",
            name=field_name(language, q.id),
            value=answer_label(definition, language, q.id, answers),
        )
        for q in definition.questions
    ]


def short_answers(definition: TriageDefinition, language: Language, answers: Mapping[str, str]) -> str:
    """The chosen options on one line (for ``!queue``), skipping unanswered questions."""
    chosen = [
        answer_label(definition, language, q.id, answers)
        for q in definition.questions
        if q.id in answers and answers[q.id] != definition.skip.id
    ]
    return " · ".join(chosen) or text(language, "queue.card.unanswered")


def status_text(language: Language, facts: CaseFacts) -> str:
    if facts.stage == "waiting_async":
        reason = facts.later.reason if facts.later is not None else "closed"
        return text(language, f"queue.card.status.waiting_async_{reason}")
    if facts.stage == "claimed":
        return text(language, "queue.card.status.claimed", counsellor=facts.claimed_by)
    if facts.stage == "closed":
        if facts.claimed_by is None:
            return text(language, "queue.card.status.closed_unclaimed")
        return text(language, "queue.card.status.closed", counsellor=facts.claimed_by, outcome=facts.outcome)
    return text(language, f"queue.card.status.{facts.stage}")


def entry_text(language: Language, entry: str, campaign: str | None, organisation: str | None = None) -> str:
    key = f"queue.card.entry.{entry}"
    label = text(language, key) if has_text(language, key) else entry
    if organisation:
        label = text(language, "queue.card.organisation", entry=label, organisation=organisation)
    return text(language, "queue.card.campaign", entry=label, campaign=campaign) if campaign else label


def render_card(
    facts: CaseFacts, definition: TriageDefinition, language: Language, zone: ZoneInfo, now: datetime
) -> str:
    title = "queue.card.title_urgent" if facts.urgent else "queue.card.title"
    lines = [text(language, title, number=facts.number)]

    def line(field: str, value: str) -> None:
        lines.append(text(language, "queue.card.line", name=text(language, f"queue.card.fields.{field}"), value=value))

    line("status", status_text(language, facts))
    lines += answer_lines(definition, language, facts.answers)
    line("entry", entry_text(language, facts.entry, facts.campaign, facts.organisation))
    line("language", language_label(language, facts.language))
    if facts.waiting_since is not None and facts.later is None:
        line("since", phrase(language, from_millis(facts.waiting_since, zone), now))
    if facts.later is not None:
        line("written", phrase(language, from_millis(facts.later.written_at, zone), now))
        line("came_back", text(language, f"queue.card.came_back.{'yes' if facts.later.came_back else 'no'}"))
    if facts.departure is not None:
        lines.append(text(language, f"queue.card.departure.{facts.departure}"))
    if facts.stage in ("waiting", "waiting_async"):
        lines.append(text(language, "queue.card.how_to_claim", number=facts.number))
    return "\n".join(lines)


def summary_text(facts: CaseFacts, definition: TriageDefinition, language: Language) -> str:
    """The triage summary posted in the card's thread when a counsellor claims the case."""
    answers = "\n".join(f"- {line}" for line in answer_lines(definition, language, facts.answers))
    return text(language, "queue.staff.summary", counsellor=facts.claimed_by, number=facts.number, answers=answers)


@dataclass(frozen=True)
class QueueLine:
    number: str
    urgent: bool
    waiting_since: int
    answers: Mapping[str, str]
    # A message left to be answered later (listed after the live chats).
    later: bool = False


def render_queue(
    waiting: list[QueueLine], claimed: int, definition: TriageDefinition, language: Language, now_ms: int
) -> str:
    """``!queue``: waiting cases in queue order (the caller orders them), then a count of claimed ones."""
    if not waiting:
        lines = [text(language, "queue.staff.queue_empty")]
    else:
        lines = [text(language, "queue.staff.queue_header", count=len(waiting))]
        for position, item in enumerate(waiting, start=1):
            lines.append(
                text(
                    language,
                    "queue.staff.queue_line",
                    position=position,
                    number=item.number,
                    urgent=item.urgent,
                    later=item.later,
                    minutes=minutes_between(item.waiting_since, now_ms),
                    answers=short_answers(definition, language, item.answers),
                )
            )
    if claimed:
        lines.append(text(language, "queue.staff.queue_claimed", count=claimed))
    return "\n".join(lines)
