"""What each case event adds to the statistics. Pure: events in, counts out.

A count is a (measure, dimension) pair; the day is the Europe/Amsterdam day of the event.
Times become histogram buckets here and are never stored themselves. Dimensions come only
from closed lists (triage option ids, outcomes from the config, close reasons, partner kinds
from the directory, campaigns the platform knows), never from free text.

Each measure has a ``total`` dimension counted once per occurrence; the other dimensions of a
measure come in families (``entry:…``, ``language:…``): the cells of one family add up to at
most the total.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence, Set
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bots.db.case_log import CaseEvent

TOTAL = "total"
# Minutes: waiting until the first counsellor, and from the first claim to the close.
WAIT_EDGES = (5, 15, 30, 60, 120)
TALK_EDGES = (10, 20, 30, 60, 90)
HANDOVER_RESULTS = ("asked", "consented", "declined", "cancelled", "accepted", "refused", "arrived", "failed")
CLOSE_REASONS = (
    "ended", "quick_exit", "counsellor", "abandoned", "left", "timeout", "code_expired", "code_wrong",
    "async_unanswered", "dismissed",
)  # fmt: skip
# Days a visitor stayed away before returning with a code (docs/return-code.md).
AWAY_EDGES = (1, 3, 7, 14)
# Hours from leaving a message to be answered later to its first answer (docs/write-later.md).
ANSWER_EDGES = (1, 4, 8, 24, 48)
LATER_REASONS = ("closed", "long_wait")


@dataclass(frozen=True)
class Count:
    measure: str
    dimension: str


def bucket(minutes: float, edges: Sequence[int]) -> str:
    """The histogram bucket of ``minutes``: ``"0-5"``, ``"5-15"``, …, ``"120+"``."""
    low = 0
    for edge in edges:
        if minutes < edge:
            return f"{low}-{edge}"
        low = edge
    return f"{low}+"


def day_of(ms: int, zone: ZoneInfo) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).astimezone(zone).date().isoformat()


def _fields(detail: str | None) -> dict[str, str]:
    out = {}
    for part in (detail or "").split():
        key, _, value = part.partition("=")
        out[key] = value
    return out


def _first(history: Sequence[CaseEvent], kind: str) -> CaseEvent | None:
    return next((e for e in history if e.kind == kind), None)


def _minutes(start: CaseEvent | None, end: CaseEvent) -> float | None:
    return None if start is None else max(0.0, (end.happened_at - start.happened_at) / 60_000)


@dataclass(frozen=True)
class Known:
    """The closed lists dimensions may come from."""

    outcomes: Set[str]
    campaigns: Set[str]
    partner_kinds: Mapping[str, str]  # partner id → kind
    # The wrap-up's closed lists (queue.wrap_up).
    topics: Set[str] = frozenset()
    referrals: Set[str] = frozenset()


Rule = Callable[[CaseEvent, Sequence[CaseEvent], Known], list[Count]]


def _started(event: CaseEvent, history: Sequence[CaseEvent], known: Known) -> list[Count]:
    f = _fields(event.detail)
    campaign = f.get("campaign", "")
    found = campaign if campaign in known.campaigns else ("none" if campaign in ("", "-") else "other")
    return [
        Count("sessions_started", TOTAL),
        Count("sessions_started", f"entry:{f.get('entry', 'unknown')}"),
        Count("sessions_started", f"language:{f.get('language', 'unknown')}"),
        Count("sessions_started", f"campaign:{found}"),
    ]


def _greeted(event: CaseEvent, history: Sequence[CaseEvent], known: Known) -> list[Count]:
    hours = _fields(event.detail).get("hours")
    return [Count("sessions_started", f"hours:{hours}")] if hours in ("open", "closed") else []


def _answered(event: CaseEvent, history: Sequence[CaseEvent], known: Known) -> list[Count]:
    return [Count("triage_answers", TOTAL), Count("triage_answers", event.detail)] if event.detail else []


def _claimed(event: CaseEvent, history: Sequence[CaseEvent], known: Known) -> list[Count]:
    if _first(history, "claimed") is not None:
        return []  # picked up once; a transfer or a second claim is not a second pickup
    out = [Count("queue", "picked_up")]
    waited = _minutes(_first(history, "queued"), event)
    if waited is not None:
        out += [Count("waiting_time", TOTAL), Count("waiting_time", bucket(waited, WAIT_EDGES))]
    return out


def _closed(event: CaseEvent, history: Sequence[CaseEvent], known: Known) -> list[Count]:
    outcome = event.detail if event.detail in known.outcomes else "other"
    out = [Count("outcomes", TOTAL), Count("outcomes", outcome or "other")]
    talked = _minutes(_first(history, "claimed"), event)
    if talked is not None:
        out += [Count("conversation_length", TOTAL), Count("conversation_length", bucket(talked, TALK_EDGES))]
    return out


def _case_closed(event: CaseEvent, history: Sequence[CaseEvent], known: Known) -> list[Count]:
    reason = event.detail if event.detail in CLOSE_REASONS else "other"
    out = [Count("close_reasons", TOTAL), Count("close_reasons", reason or "other")]
    if _first(history, "queued") is not None and _first(history, "claimed") is None:
        out.append(Count("queue", "abandoned_before_pickup"))
    return out


def _handover(event: CaseEvent, history: Sequence[CaseEvent], known: Known) -> list[Count]:
    result = event.kind.removeprefix("handover_")
    if result not in HANDOVER_RESULTS:
        return []
    partner_kind = known.partner_kinds.get(event.detail or "", "unknown")
    first = Count("handovers", TOTAL if result == "asked" else f"result:{result}")
    return [first, Count("handovers", f"{partner_kind}:{result}")]


def _returned(event: CaseEvent, history: Sequence[CaseEvent], known: Known) -> list[Count]:
    days = _fields(event.detail).get("days", "")
    out = [Count("return_codes", "returned")]
    if days.isdigit():
        out.append(Count("return_codes", f"days:{bucket(int(days), AWAY_EDGES)}"))
    if _first(history, "later_left") is not None:
        # Back after leaving a message: to read an answer if one was written since.
        out.append(Count("async", "returned"))
        if _first(history, "later_answered") is not None:
            out.append(Count("async", "returned_to_read"))
    return out


def _later_left(event: CaseEvent, history: Sequence[CaseEvent], known: Known) -> list[Count]:
    reason = _fields(event.detail).get("reason", "")
    out = [Count("async", TOTAL)]
    if reason in LATER_REASONS:
        out.append(Count("async", f"reason:{reason}"))
    return out


def _later_answered(event: CaseEvent, history: Sequence[CaseEvent], known: Known) -> list[Count]:
    f = _fields(event.detail)
    out = [Count("async", "answered")]
    if f.get("in_time") in ("yes", "no"):
        out.append(Count("async", "answered_in_time" if f["in_time"] == "yes" else "answered_late"))
    if f.get("hours", "").isdigit():
        out.append(Count("async", f"answer_hours:{bucket(int(f['hours']), ANSWER_EDGES)}"))
    return out


def _wrap_up(event: CaseEvent, history: Sequence[CaseEvent], known: Known) -> list[Count]:
    """A chat can have several topics and referrals: each named one counts (none: ``none``)."""
    f = _fields(event.detail)
    out = []
    for measure, field, allowed in (
        ("wrap_up_topics", "topics", known.topics),
        ("wrap_up_referrals", "referrals", known.referrals),
    ):
        named = [value for value in f.get(field, "-").split(",") if value in allowed]
        out += [Count(measure, value) for value in named] or [Count(measure, "none")]
    return out


RULES: dict[str, Rule] = {
    "started": _started,
    "greeted": _greeted,
    "answered": _answered,
    "urgent": lambda event, history, known: [Count("urgent", TOTAL)],
    "urgent_held_back": lambda event, history, known: [Count("urgent", TOTAL), Count("urgent", "held_back")],
    "queued": lambda event, history, known: [Count("queue", TOTAL), Count("queue", "waited")],
    "claimed": _claimed,
    "closed": _closed,
    "case_closed": _case_closed,
    "code_made": lambda event, history, known: [Count("return_codes", TOTAL)],
    "dormant": lambda event, history, known: [Count("return_codes", "dormant")],
    "returned": _returned,
    "later_left": _later_left,
    "later_answered": _later_answered,
    "wrap_up": _wrap_up,
}


def counts(event: CaseEvent, history: Sequence[CaseEvent], known: Known) -> list[Count]:
    """The counts ``event`` adds; ``history`` is the case's events before it, oldest first."""
    rule = _handover if event.kind.startswith("handover_") else RULES.get(event.kind)
    return rule(event, history, known) if rule is not None else []
