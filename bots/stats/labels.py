"""Human labels and a reading order for the cells of a report. Pure: a measure in, groups out.

A measure's cells come in families (``entry:widget``, a triage answer ``topic=debts``, a
partner kind's ``police:arrived``, or the plain dimensions of ``queue``); each family becomes
one group with a title and rows in a fixed order (the triage definition's order, the order of
the buckets, the close reasons, …). Labels come from the report texts and the triage
definition in the report's language; anything unknown is shown as its raw id.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from bots.partners.directory import KINDS
from bots.stats.counting import CLOSE_REASONS, HANDOVER_RESULTS, TOTAL
from bots.stats.report import Measure, Value, family
from bots.texts import LANGUAGES, Language, has_text, text
from bots.triage import TriageDefinition
from bots.triage.labels import field_name
from keerpunt.base.config.model import FeedbackAnswer, FeedbackQuestion

BUCKET = re.compile(r"^(\d+)-(\d+)$|^(\d+)\+$")
SESSION_FAMILIES = ("entry", "language", "campaign", "hours")
VALUE_ORDER: dict[str, tuple[str, ...]] = {
    "entry": ("widget", "outreach", "unknown"),
    "language": (*LANGUAGES, "unknown"),
    "hours": ("open", "closed"),
    "queue": ("waited", "picked_up", "abandoned_before_pickup"),
    "close_reasons": (*CLOSE_REASONS, "other"),
    "handovers": HANDOVER_RESULTS,
    "return_codes": ("dormant", "returned"),
    "challenges": ("normal", "raised", "hard"),
    "async": ("answered", "answered_in_time", "answered_late", "returned", "returned_to_read"),
}
LAST = 10_000  # rank of anything not in a known order: after the known ones, by id
# Cells that are histogram buckets (``0-15``, ``480+``), ordered by their lower edge.
BUCKETED = (("return_codes", "days"), ("breaks", "minutes"), ("async", "answer_hours"))


@dataclass(frozen=True)
class Row:
    label: str
    value: Value


@dataclass(frozen=True)
class Group:
    title: str | None  # None for a measure's plain dimensions
    rows: tuple[Row, ...]


def _rank(order: Sequence[str], value: str) -> tuple[int, str]:
    return (order.index(value), "") if value in order else (LAST, value)


class Labeller:
    """The report's words for one language."""

    def __init__(
        self,
        language: Language,
        definition: TriageDefinition,
        outcomes: Sequence[str],
        feedback: Sequence[FeedbackQuestion] = (),
    ) -> None:
        self.language = language
        self.definition = definition
        self.outcomes = tuple(outcomes)
        # The verdict's questions (feedback.questions): their words and their answers' order.
        self.feedback = {question.id: question for question in feedback}

    def say(self, key: str, **values: object) -> str:
        return text(self.language, f"report.{key}", **values)

    def _known(self, key: str, fallback: str) -> str:
        full = f"report.{key}"
        return text(self.language, full) if has_text(self.language, full) else fallback

    def title(self, measure: str) -> str:
        return self._known(f"measure.{measure}.title", measure)

    def about(self, measure: str) -> str:
        return self._known(f"measure.{measure}.about", self.say("measure_unknown"))

    def groups(self, name: str, measure: Measure) -> list[Group]:
        """The cells of ``measure`` grouped by family, families and rows in reading order."""
        families: dict[str, list[str]] = defaultdict(list)
        for dimension in measure.by:
            if dimension != TOTAL:
                families[family(dimension)].append(dimension)
        out = []
        for fam in sorted(families, key=lambda f: self._family_rank(name, f)):
            dimensions = sorted(families[fam], key=lambda d: self._value_rank(name, fam, _value(d)))
            rows = tuple(Row(self._cell(name, fam, _value(d)), measure.by[d]) for d in dimensions)
            out.append(Group(self._family_title(name, fam), rows))
        return out

    # Families -------------------------------------------------------------------------------

    def _family_rank(self, measure: str, fam: str) -> tuple[int, str]:
        if measure == "sessions_started":
            return _rank(SESSION_FAMILIES, fam)
        if measure == "triage_answers":
            return _rank([q.id for q in self.definition.questions], fam)
        if measure == "handovers":
            return _rank(("result", *KINDS, "unknown"), fam)
        if measure == "feedback":
            return _rank(tuple(self.feedback), fam)
        return _rank((), fam)

    def _family_title(self, measure: str, fam: str) -> str | None:
        if not fam:
            return None
        if measure == "triage_answers":
            return field_name(self.language, fam)
        if measure == "handovers" and fam != "result":
            return self._known(f"partner_kind.{fam}", fam)
        if measure == "feedback" and fam in self.feedback:
            return _said(self.feedback[fam], self.language)
        return self._known(f"family.{fam}", fam)

    # Values ---------------------------------------------------------------------------------

    def _value_rank(self, measure: str, fam: str, value: str) -> tuple[int, str]:
        if measure == "triage_answers":
            question = self.definition.question(fam)
            ids = [o.id for o in question.options] if question else []
            return _rank([*ids, self.definition.skip.id], value)
        if measure in ("waiting_time", "conversation_length") or (measure, fam) in BUCKETED:
            found = BUCKET.match(value)
            return (int(found.group(1) or found.group(3)), "") if found else (LAST, value)
        if (measure, fam) in (("chats_per_hour", "hour"), ("concurrent_chats", "chats")):
            return (int(value), "") if value.isdigit() else (LAST, value)
        if measure == "feedback" and fam in self.feedback:
            return _rank([answer.id for answer in self.feedback[fam].answers], value)
        if measure == "outcomes":
            return _rank((*self.outcomes, "other"), value)
        if measure == "sessions_started" and fam == "campaign":
            return (1, value) if value in ("none", "other") else (0, value)  # the slugs first
        return _rank(VALUE_ORDER.get(fam if measure == "sessions_started" else measure, ()), value)

    def _cell(self, measure: str, fam: str, value: str) -> str:
        if measure == "triage_answers":
            return self._answer(fam, value)
        if measure == "feedback" and fam in self.feedback:
            answer = next((a for a in self.feedback[fam].answers if a.id == value), None)
            return _said(answer, self.language) if answer else value
        if (measure, fam) == ("chats_per_hour", "hour"):
            return self.say("hour", hour=value) if value.isdigit() else value
        if (measure, fam) == ("concurrent_chats", "chats"):
            return self.say("chats_at_once", chats=value)
        if measure in ("waiting_time", "conversation_length") or (measure, fam) == ("breaks", "minutes"):
            found = BUCKET.match(value)
            if found is None:
                return value
            if found.group(3):
                return self.say("minutes_open", low=found.group(3))
            return self.say("minutes", low=found.group(1), high=found.group(2))
        if (measure, fam) == ("async", "answer_hours"):
            return self._range(value, "hours_range", "hours_open")
        if (measure, fam) == ("async", "reason"):
            return self._known(f"later_reason.{value}", value)
        if (measure, fam) == ("return_codes", "days"):
            return self._range(value, "days", "days_open")
        key = {
            "return_codes": "return_code",
            "async": "later",
            "queue": "queue",
            "urgent": "urgent",
            "outcomes": "outcome",
            "close_reasons": "close_reason",
            "challenges": "challenge_level",
            "handovers": "handover",
            "staff_actions": "staff_action",
            "wrap_up_topics": "topic",
            "wrap_up_referrals": "referral",
        }.get(measure, fam if measure == "sessions_started" else "")
        return self._known(f"{key}.{value}", value) if key else value

    def _range(self, value: str, closed: str, open_ended: str) -> str:
        """A histogram bucket (``3-7``, ``14+``) in words."""
        found = BUCKET.match(value)
        if found is None:
            return value
        if found.group(3):
            return self.say(open_ended, low=found.group(3))
        return self.say(closed, low=found.group(1), high=found.group(2))

    def _answer(self, question_id: str, option_id: str) -> str:
        if option_id == self.definition.skip.id:
            return self.say("skipped")
        question = self.definition.question(question_id)
        option = question.option(option_id) if question else None
        return option.label[self.language] if option else option_id


def _said(item: FeedbackQuestion | FeedbackAnswer, language: Language) -> str:
    """A verdict question's or answer's words in ``language`` (from the config)."""
    return item.nl if language == "nl" else item.en


def _value(dimension: str) -> str:
    """``entry:widget`` → ``widget``; ``topic=debts`` → ``debts``; a plain dimension as it is."""
    fam = family(dimension)
    return dimension[len(fam) + 1 :] if fam else dimension
