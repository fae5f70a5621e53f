"""Strict parsing of session API requests: exact keys, types, enumerations and sizes.

Anything unexpected is refused with a short, generic error code; the request never
reaches the domain layer. Errors never echo the input.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Literal

from bots.texts import LANGUAGES, Language

MAX_BODY_BYTES = 4096
SLUG = re.compile(r"^[a-z0-9-]{1,64}$")

Entry = Literal["widget", "outreach"]
ENTRIES: tuple[Entry, ...] = ("widget", "outreach")
EndReason = Literal["ended", "quick_exit"]
END_REASONS: tuple[EndReason, ...] = ("ended", "quick_exit")


class ApiError(Exception):
    """A user-facing HTTP error: a status, a generic code, optional headers."""

    def __init__(self, status: int, code: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{status} {code}")
        self.status = status
        self.code = code
        self.headers = headers or {}


def bad_request() -> ApiError:
    return ApiError(400, "bad_request")


@dataclass(frozen=True)
class StartRequest:
    language: Language
    entry: Entry
    invite: str | None = None
    campaign: str | None = None


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError("duplicate key")
        out[key] = value
    return out


def _no_constants(_: str) -> Any:
    raise ValueError("NaN and Infinity are not JSON")


def parse_json_object(raw: bytes) -> dict[str, Any]:
    """Decode a UTF-8 JSON object (no duplicate keys, no NaN); anything else is a 400."""
    if len(raw) > MAX_BODY_BYTES:
        raise ApiError(413, "too_large")
    try:
        data = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates, parse_constant=_no_constants)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise bad_request() from None
    if not isinstance(data, dict):
        raise bad_request()
    return data


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


def parse_start(data: dict[str, Any]) -> StartRequest:
    if not set(data) <= {"language", "entry", "invite", "campaign"} or not {"language", "entry"} <= set(data):
        raise bad_request()
    language, entry = data["language"], data["entry"]
    if not isinstance(language, str) or language not in LANGUAGES:
        raise bad_request()
    if not isinstance(entry, str) or entry not in ENTRIES:
        raise bad_request()
    return StartRequest(
        language=language,
        entry=entry,
        invite=_optional_code(data, "invite"),
        campaign=_optional_slug(data, "campaign"),
    )


def parse_end(data: dict[str, Any]) -> EndReason:
    if not set(data) <= {"reason"}:
        raise bad_request()
    reason = data.get("reason", "ended")
    if not isinstance(reason, str) or reason not in END_REASONS:
        raise bad_request()
    return reason
