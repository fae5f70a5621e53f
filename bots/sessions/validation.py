"""Strict parsing of session API requests: exact keys, types and enumerations.

Anything unexpected is refused with a short, generic error code; the request never
reaches the domain layer. Errors never echo the input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from bots.texts import LANGUAGES, Language
from bots.visitors.http import bad_request

SLUG = re.compile(r"^[a-z0-9-]{1,64}$")

Entry = Literal["widget", "outreach"]
ENTRIES: tuple[Entry, ...] = ("widget", "outreach")
# 'later': the visitor leaves a message to be answered later (docs/write-later.md).
EndReason = Literal["ended", "quick_exit", "later"]
END_REASONS: tuple[EndReason, ...] = ("ended", "quick_exit", "later")


@dataclass(frozen=True)
class StartRequest:
    language: Language
    entry: Entry
    invite: str | None = None
    campaign: str | None = None
    # The answer to the proof of work (bots.sessions.challenge), checked there.
    challenge: str | None = None
    # To write a message while the chat is closed (docs/write-later.md).
    later: bool = False


def _optional_slug(data: dict[str, Any], key: str) -> str | None:
    if key not in data:
        return None
    value = data[key]
    if not isinstance(value, str) or not SLUG.match(value):
        raise bad_request()
    return value


def _optional_code(data: dict[str, Any], key: str) -> str | None:
    """A typed or linked invite code. Its form is not checked here: a malformed code is answered
    exactly like an unknown one (a plain start), so the answer never tells what a code is."""
    if key not in data:
        return None
    value = data[key]
    if not isinstance(value, str) or len(value) > 128:
        raise bad_request()
    return value


def _optional_answer(data: dict[str, Any]) -> str | None:
    """The proof of work's answer: base64 text; whether it is right is the challenge's to say."""
    if "challenge" not in data:
        return None
    value = data["challenge"]
    if not isinstance(value, str) or not 0 < len(value) <= 2048:
        raise bad_request()
    return value


def parse_start(data: dict[str, Any]) -> StartRequest:
    if not set(data) <= {"language", "entry", "invite", "campaign", "challenge", "later"} or not {
        "language",
        "entry",
    } <= set(data):
        raise bad_request()
    language, entry = data["language"], data["entry"]
    later = data.get("later", False)
    if not isinstance(later, bool):
        raise bad_request()
    if not isinstance(language, str) or language not in LANGUAGES:
        raise bad_request()
    if not isinstance(entry, str) or entry not in ENTRIES:
        raise bad_request()
    return StartRequest(
        language=language,
        entry=entry,
        invite=_optional_code(data, "invite"),
        campaign=_optional_slug(data, "campaign"),
        challenge=_optional_answer(data),
        later=later,
    )


def parse_end(data: dict[str, Any]) -> EndReason:
    if not set(data) <= {"reason"}:
        raise bad_request()
    reason = data.get("reason", "ended")
    if not isinstance(reason, str) or reason not in END_REASONS:
        raise bad_request()
    return reason
