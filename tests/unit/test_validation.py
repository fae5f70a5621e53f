"""Session API input is parsed strictly; anything unexpected is a generic 400 (or 413)."""

from __future__ import annotations

import pytest

from bots.sessions.validation import StartRequest, parse_end, parse_start
from bots.visitors.http import MAX_BODY_BYTES, ApiError, parse_json_object


def test_a_minimal_start_request_is_accepted() -> None:
    assert parse_start({"language": "nl", "entry": "widget"}) == StartRequest("nl", "widget")


def test_invite_and_campaign_slugs_are_accepted() -> None:
    got = parse_start({"language": "en", "entry": "outreach", "invite": "ab12-cd", "campaign": "geldezel"})
    assert got == StartRequest("en", "outreach", "ab12-cd", "geldezel")


@pytest.mark.parametrize("typed", ["", "a_b", "not a code at all", "K7MQ 4XH3 CNAD"])
def test_a_malformed_invite_is_not_an_error_but_an_unknown_code(typed: str) -> None:
    """A malformed code must be answered like an unknown one (a plain start): no oracle."""
    assert parse_start({"language": "nl", "entry": "outreach", "invite": typed}).invite == typed


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"language": "nl"},
        {"entry": "widget"},
        {"language": "nl", "entry": "widget", "extra": 1},
        {"language": "NL", "entry": "widget"},
        {"language": ["nl"], "entry": "widget"},
        {"language": "nl", "entry": True},
        {"language": "nl", "entry": "outreach", "invite": 5},
        {"language": "nl", "entry": "outreach", "invite": None},
        {"language": "nl", "entry": "outreach", "invite": "a" * 129},
        {"language": "nl", "entry": "widget", "campaign": "<script>"},
        {"language": "nl", "entry": "widget", "campaign": None},
        {"language": "nl", "entry": "widget", "campaign": 5},
    ],
)
def test_start_requests_with_anything_unexpected_are_bad_requests(data: dict[str, object]) -> None:
    with pytest.raises(ApiError) as caught:
        parse_start(data)
    assert (caught.value.status, caught.value.code) == (400, "bad_request")


def test_a_64_character_slug_is_the_longest_allowed() -> None:
    assert parse_start({"language": "nl", "entry": "widget", "campaign": "a" * 64}).campaign == "a" * 64


@pytest.mark.parametrize(
    "raw",
    [b"", b"{", b"[]", b"null", b'"x"', b"\xff\xfe", b'{"a": 1, "a": 2}', b'{"a": NaN}', b"[" * 3000 + b"]" * 3000],
)
def test_only_a_json_object_is_accepted(raw: bytes) -> None:
    with pytest.raises(ApiError) as caught:
        parse_json_object(raw)
    assert caught.value.status in (400, 413)


def test_a_body_over_the_limit_is_too_large() -> None:
    with pytest.raises(ApiError) as caught:
        parse_json_object(b" " * (MAX_BODY_BYTES + 1))
    assert (caught.value.status, caught.value.code) == (413, "too_large")


def test_end_reasons() -> None:
    assert parse_end({}) == "ended"
    assert parse_end({"reason": "quick_exit"}) == "quick_exit"
    for bad in ({"reason": "other"}, {"reason": None}, {"why": "ended"}):
        with pytest.raises(ApiError):
            parse_end(bad)
