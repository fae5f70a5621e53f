"""The session API refuses bad input with a documented status and a generic body, and leaves nothing behind."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bots.db.case import CaseStore
from bots.ids import RoomID
from tests.support.bots import ORIGIN, FakeClock, InProcessBots, bots_config
from tests.support.counts import counts
from tests.support.matrix_clients import ClientFactory
from tests.support.synapse import SynapseProcess
from tests.support.visitor import post_session

pytestmark = pytest.mark.integration

VALID = {"language": "nl", "entry": "widget"}

BAD = (400, "bad_request")
TOO_LARGE = (413, "too_large")
PLAIN = {"Content-Type": "text/plain"}


def _raw(text: str) -> bytes:
    return text.encode()


# (what, raw body, extra headers, (status, error code))
REFUSED: list[tuple[str, bytes, dict[str, str], tuple[int, str]]] = [
    ("not JSON", b"{", {}, BAD),
    ("a JSON array", b"[]", {}, BAD),
    ("a JSON string", b'"nl"', {}, BAD),
    ("empty body", b"", {}, BAD),
    ("invalid UTF-8", b'{"language": "\xff"}', {}, BAD),
    ("missing language", _raw('{"entry": "widget"}'), {}, BAD),
    ("language of the wrong type", _raw('{"language": 1, "entry": "widget"}'), {}, BAD),
    ("unknown language", _raw('{"language": "de", "entry": "widget"}'), {}, BAD),
    ("unknown entry", _raw('{"language": "nl", "entry": "email"}'), {}, BAD),
    ("unknown field", _raw('{"language": "nl", "entry": "widget", "name": "Sam"}'), {}, BAD),
    ("campaign null", _raw('{"language": "nl", "entry": "widget", "campaign": null}'), {}, BAD),
    ("campaign with capitals", _raw('{"language": "nl", "entry": "widget", "campaign": "Geldezel"}'), {}, BAD),
    ("invite too long", _raw('{"language": "nl", "entry": "outreach", "invite": "' + "a" * 129 + '"}'), {}, BAD),
    ("invite not a string", _raw('{"language": "nl", "entry": "outreach", "invite": 5}'), {}, BAD),
    ("duplicate keys", _raw('{"language": "nl", "language": "en", "entry": "widget"}'), {}, BAD),
    ("NaN", _raw('{"language": "nl", "entry": "widget", "x": NaN}'), {}, BAD),
    ("deep nesting", b"[" * 2000 + b"]" * 2000, {}, BAD),
    ("oversized body", _raw('{"language": "nl", "entry": "widget", "campaign": "' + "a" * 5000 + '"}'), {}, TOO_LARGE),
    ("not application/json", _raw('{"language": "nl", "entry": "widget"}'), PLAIN, (415, "unsupported_media_type")),
]  # fmt: skip


async def test_bad_requests_get_a_generic_error_and_create_nothing(bots: InProcessBots, clients: ClientFactory) -> None:
    before = await counts(clients, bots)
    async with aiohttp.ClientSession() as http:
        for what, raw, headers, (status, code) in REFUSED:
            got, body, resp_headers = await post_session(bots.api, data=raw, headers=headers, http=http)
            assert (got, body) == (status, {"error": code}), what
            assert "Set-Cookie" not in resp_headers, what
            assert resp_headers.get("Cache-Control") == "no-store"
    assert await counts(clients, bots) == before


async def test_posts_from_other_origins_are_refused(bots: InProcessBots, clients: ClientFactory) -> None:
    before = await counts(clients, bots)
    cases: list[tuple[str | None, dict[str, str]]] = [
        ("https://evil.example", {}),
        ("null", {}),
        (None, {}),
        (None, {"Sec-Fetch-Site": "cross-site"}),
        ("https://evil.example", {"Sec-Fetch-Site": "same-origin"}),
    ]
    for origin, headers in cases:
        status, body, resp_headers = await post_session(bots.api, VALID, origin=origin, headers=headers)
        assert (status, body) == (403, {"error": "forbidden"}), (origin, headers)
        assert "Access-Control-Allow-Origin" not in resp_headers
        status, body, _ = await post_session(
            bots.api, {"reason": "ended"}, origin=origin, headers={**headers, "Authorization": "Bearer x"},
            path="/api/v1/sessions/end",
        )  # fmt: skip
        assert status == 403
    assert await counts(clients, bots) == before


async def test_same_origin_requests_and_allowed_origins_get_a_session_without_cookies(
    bots: InProcessBots, clients: ClientFactory
) -> None:
    status, body, headers = await post_session(bots.api, VALID, origin=None, headers={"Sec-Fetch-Site": "same-origin"})
    assert status == 201, body
    assert set(body) == {"homeserver", "user_id", "access_token", "device_id", "room_id", "bot", "case", "open"}
    assert "Set-Cookie" not in headers
    status, body, headers = await post_session(bots.api, {**VALID, "campaign": "geldezel-2026", "language": "en"})
    assert status == 201
    assert headers["Access-Control-Allow-Origin"] == ORIGIN
    assert len(body["case"]) == 4 and body["case"].isdigit()
    assert "Set-Cookie" not in headers
    async with aiohttp.ClientSession() as http:
        preflight = {"Origin": ORIGIN, "Access-Control-Request-Method": "POST"}
        async with http.options(bots.api + "/api/v1/sessions", headers=preflight) as resp:
            assert resp.status == 204
            assert resp.headers["Access-Control-Allow-Origin"] == ORIGIN
            assert "POST" in resp.headers["Access-Control-Allow-Methods"]
        evil = {**preflight, "Origin": "https://evil.example"}
        async with http.options(bots.api + "/api/v1/sessions", headers=evil) as resp:
            assert resp.status == 403
            assert "Access-Control-Allow-Origin" not in resp.headers


async def test_get_has_no_side_effects_and_unknown_paths_are_generic(
    bots: InProcessBots, clients: ClientFactory
) -> None:
    before = await counts(clients, bots)
    async with aiohttp.ClientSession() as http:
        async with http.get(bots.api + "/api/v1/sessions", headers={"Origin": ORIGIN}) as resp:
            assert resp.status == 405 and await resp.json() == {"error": "method_not_allowed"}
        async with http.get(bots.api + "/api/v1/nope") as resp:
            assert resp.status == 404 and await resp.json() == {"error": "not_found"}
        async with http.get(bots.api + "/api/v1/health") as resp:
            assert resp.status == 200
    assert await counts(clients, bots) == before


async def test_a_chunked_oversized_body_is_refused(bots: InProcessBots) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"language": "nl", "entry": "widget", "campaign": "'
        for _ in range(10):
            yield b"a" * 1000
        yield b'"}'

    async with (
        aiohttp.ClientSession() as http,
        http.post(
            bots.api + "/api/v1/sessions", data=chunks(), headers={"Origin": ORIGIN, "Content-Type": "application/json"}
        ) as resp,
    ):
        assert resp.status == 413
        assert await resp.json() == {"error": "too_large"}


@pytest.fixture
async def limited_bots(synapse: SynapseProcess, tmp_path: Path, bots_database: str) -> AsyncIterator[InProcessBots]:
    limits = {"bots": {"rate_limit": {"per_client_per_hour": 2, "global_per_minute": 3}}}
    harness = InProcessBots(bots_config(synapse, tmp_path / "data", bots_database, limits), FakeClock())
    await harness.start()
    yield harness
    await harness.stop()


async def _post_from(api: str, address: str, headers: dict[str, str] | None = None) -> tuple[int, Any, Any]:
    connector = aiohttp.TCPConnector(local_addr=(address, 0))
    async with aiohttp.ClientSession(connector=connector) as http:
        return await post_session(api, VALID, headers=headers, http=http)


async def test_rate_limits_per_client_and_global_answer_429_with_retry_after(
    limited_bots: InProcessBots, clients: ClientFactory
) -> None:
    api = limited_bots.api
    assert (await _post_from(api, "127.0.0.1"))[0] == 201
    assert (await _post_from(api, "127.0.0.2"))[0] == 201  # the same /24: the same client
    before = await counts(clients, limited_bots)
    status, body, headers = await _post_from(api, "127.0.0.3", {"X-Forwarded-For": "203.0.113.7"})
    assert (status, body) == (429, {"error": "rate_limited"})
    assert 0 < int(headers["Retry-After"]) <= 3600
    assert await counts(clients, limited_bots) == before

    assert (await _post_from(api, "127.0.1.1"))[0] == 201  # another client; the global limit is now used up
    status, body, headers = await _post_from(api, "127.0.2.1")
    assert (status, body) == (429, {"error": "rate_limited"})
    assert 0 < int(headers["Retry-After"]) <= 60

    assert isinstance(limited_bots.clock, FakeClock)
    limited_bots.clock.advance(61)
    assert (await _post_from(api, "127.0.2.1"))[0] == 201
    assert (await _post_from(api, "127.0.0.1"))[0] == 429  # still over its hourly limit


@pytest.fixture
async def restart_bots(synapse: SynapseProcess, tmp_path: Path, bots_database: str) -> AsyncIterator[InProcessBots]:
    limits = {"bots": {"rate_limit": {"restarts_per_client_per_hour": 1}}}
    harness = InProcessBots(bots_config(synapse, tmp_path / "data", bots_database, limits), FakeClock())
    await harness.start()
    yield harness
    await harness.stop()


async def test_starting_over_right_after_ending_has_a_limit_per_client(restart_bots: InProcessBots) -> None:
    """End, start again, end, start again: a client cannot open case after case to redo the triage."""
    api = restart_bots.api

    async def start_and_end(address: str) -> int:
        status, body, _ = await _post_from(api, address)
        if status != 201:
            return status
        auth = {"Authorization": f"Bearer {body['access_token']}"}
        ended, _, _ = await post_session(api, {"reason": "ended"}, headers=auth, path="/api/v1/sessions/end")
        assert ended == 204
        return status

    assert await start_and_end("127.0.0.1") == 201  # a first start
    assert await start_and_end("127.0.0.2") == 201  # the one restart this hour (the same /24)
    status, body, headers = await _post_from(api, "127.0.0.3")
    assert (status, body) == (429, {"error": "rate_limited"}) and 0 < int(headers["Retry-After"]) <= 3600
    assert (await _post_from(api, "127.0.1.1"))[0] == 201  # another network has not ended anything
    assert isinstance(restart_bots.clock, FakeClock)
    restart_bots.clock.advance(3601)
    assert (await _post_from(api, "127.0.0.1"))[0] == 201


@pytest.fixture
async def proxied_bots(synapse: SynapseProcess, tmp_path: Path, bots_database: str) -> AsyncIterator[InProcessBots]:
    extra = {"bots": {"api": {"trust_forwarded_for": True}, "rate_limit": {"per_client_per_hour": 1}}}
    harness = InProcessBots(bots_config(synapse, tmp_path / "data", bots_database, extra))
    await harness.start()
    yield harness
    await harness.stop()


async def test_behind_a_trusted_proxy_the_forwarded_address_is_the_client(proxied_bots: InProcessBots) -> None:
    api = proxied_bots.api
    first = {"X-Forwarded-For": "198.51.100.20, 203.0.113.7"}
    assert (await _post_from(api, "127.0.0.1", first))[0] == 201
    assert (await _post_from(api, "127.0.0.1", {"X-Forwarded-For": "203.0.113.99"}))[0] == 429  # same /24
    assert (await _post_from(api, "127.0.0.1", {"X-Forwarded-For": "192.0.2.1"}))[0] == 201


async def test_end_requests_have_a_limit_of_their_own(limited_bots: InProcessBots) -> None:
    api = limited_bots.api
    for _ in range(2):  # garbage tokens: each costs the bots a Synapse call
        status, _, _ = await post_session(
            api, None, headers={"Authorization": "Bearer not-a-token"}, path="/api/v1/sessions/end"
        )
        assert status == 401
    status, body, headers = await post_session(
        api, None, headers={"Authorization": "Bearer not-a-token"}, path="/api/v1/sessions/end"
    )
    assert (status, body) == (429, {"error": "rate_limited"}) and int(headers["Retry-After"]) > 0
    assert (await _post_from(api, "127.0.0.1"))[0] == 201, "ending has its own budget, apart from starting"


async def test_a_campaign_the_platform_does_not_know_is_not_kept(bots: InProcessBots) -> None:
    known = {"language": "nl", "entry": "widget", "campaign": "geldezel-no-way"}
    made_up = {"language": "nl", "entry": "widget", "campaign": "my-name-is-jan"}
    cases = CaseStore(bots.db)
    for body, kept in ((known, "geldezel-no-way"), (made_up, None)):
        status, session, _ = await post_session(bots.api, body)
        assert status == 201
        case = await cases.by_room(RoomID(session["room_id"]))
        assert case is not None and case.campaign == kept
