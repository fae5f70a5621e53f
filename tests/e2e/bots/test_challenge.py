"""The proof of work before a start and ``!dismiss``, against a real Synapse (SECURITY.md 39).

Networks are told apart the way the bots tell them: by /24. The visitors of ``start_visitor``
come from 127.0.0.1; "another network" is a client bound to 127.0.9.9 (127.0.9.0/24).
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bots.db import Stores
from bots.db.system_room import SystemRoomStore
from bots.sessions.challenge import Challenges
from bots.texts import text
from tests.support.bots import ORIGIN, InProcessBots
from tests.support.counts import counts
from tests.support.matrix_clients import ClientFactory
from tests.support.staff import add_counsellor
from tests.support.triage import answer_all, start_visitor
from tests.support.visitor import post_session, prove_work

pytestmark = pytest.mark.integration

OTHER = "127.0.9.9"  # another network than the visitors' 127.0.0.0/24
ANSWERS = {"audience": "self", "danger": "no", "topic": "other", "region": "unknown"}
START = {"language": "nl", "entry": "widget"}


@pytest.fixture(scope="module")
def bots_extra() -> dict[str, Any]:
    # On, at the shipped levels; the pool's level and the per-network count stay out of the way
    # (their rules are unit-tested in tests/unit/test_challenge.py).
    challenge = {"enabled": True, "raise_below_ready": 0, "raise_starts_per_minute": 1000}
    return {"bots": {"challenge": challenge}, "queue": {"reminder_minutes": 30, "urgent_reminder_minutes": 5}}


async def challenge_from(api: str, local: str | None = None) -> dict[str, Any]:
    connector = aiohttp.TCPConnector(local_addr=(local, 0)) if local else None
    async with (
        aiohttp.ClientSession(connector=connector) as http,
        http.get(api + "/api/v1/sessions/challenge", headers={"Origin": ORIGIN}) as resp,
    ):
        assert resp.status == 200
        assert "Set-Cookie" not in resp.headers
        return dict(await resp.json())


def files(root: Path) -> list[tuple[Path, bytes]]:
    """Every file the bots wrote (database, crypto store, keys), as bytes."""
    return [(path, path.read_bytes()) for path in root.rglob("*") if path.is_file()]


def tampered(answer: str) -> str:
    """The same answer with another key: the challenge's signature still holds, the key's not."""
    data = json.loads(base64.b64decode(answer))
    key = data["solution"]["derivedKey"]
    data["solution"]["derivedKey"] = key[:-1] + ("0" if key[-1] != "0" else "1")
    return base64.b64encode(json.dumps(data).encode()).decode()


async def test_a_start_without_a_valid_proof_of_work_is_refused_with_a_clear_error_and_one_with_it_starts(
    bots: InProcessBots, clients: ClientFactory
) -> None:
    api = bots.api
    got = await challenge_from(api)
    assert got["level"] == "normal" and got["challenge"]["parameters"]["algorithm"] == "PBKDF2/SHA-256"
    before = await counts(clients, bots)
    assert (await post_session(api, START))[:2] == (403, {"error": "challenge_required"})
    for bad in ("bm9wZQ==", "not base64 at all", "x" * 3000):
        status, body, _ = await post_session(api, {**START, "challenge": bad})
        assert (status, body) in ((403, {"error": "challenge_invalid"}), (400, {"error": "bad_request"}))
    answer = await prove_work(api)
    assert answer is not None
    assert (await post_session(api, {**START, "challenge": tampered(answer)}))[:2] == (
        403,
        {"error": "challenge_invalid"},
    )
    assert await counts(clients, bots) == before  # nothing was made for a refused start
    status, session, _ = await post_session(api, {**START, "challenge": answer})
    assert status == 201 and session["room_id"].startswith("!")
    # An answer is good for one start.
    assert (await post_session(api, {**START, "challenge": answer}))[:2] == (403, {"error": "challenge_invalid"})


async def test_dismiss_closes_the_case_counts_it_and_slows_only_its_network(
    bots: InProcessBots, clients: ClientFactory
) -> None:
    stores = Stores.over(bots.db)
    counsellor = await add_counsellor(clients, bots.config, bots.db)
    queue_room = await SystemRoomStore(bots.db).get("queue")
    assert queue_room is not None
    visitor = await start_visitor(clients, bots.api, bots.user_id)
    await answer_all(visitor, ANSWERS)
    # A normal challenge asked for before the dismissal does not do for the network after it.
    early = await prove_work(bots.api)
    await counsellor.wait_for(lambda: counsellor.card(queue_room, visitor.number), what="the card")
    command = await counsellor.say(queue_room, f"!dismiss {visitor.number}")
    (reply,) = await counsellor.wait_for(lambda: counsellor.replies_to(queue_room, command), what="the answer")
    assert reply == text("nl", "queue.staff.dismissed", number=visitor.number)

    # The visitor reads the neutral closing text, as a closed chat (the widget closes alike).
    closing = text("nl", "queue.visitor.closed_dismissed")
    event = await visitor.observer.wait_message(visitor.room, bots.user_id, lambda e: e["content"]["body"] == closing)
    assert event["content"]["nl.keerpunt.message"] == "queue.visitor.closed"
    q = await stores.queue.workflow.by_number(visitor.number)
    assert q is not None and q.stage == "closed" and q.outcome == "dismissed"
    case = await stores.cases.get(q.case_id)
    assert case is not None and case.state == "closed" and case.close_reason == "dismissed"
    assert [e.kind for e in await stores.case_log.of_case(case.id)].count("dismissed") == 1

    # Its network gets the hard level (never a refusal); another network the normal one.
    assert (await challenge_from(bots.api))["level"] == "hard"
    assert (await challenge_from(bots.api, OTHER))["level"] == "normal"
    assert (await post_session(bots.api, {**START, "challenge": early}))[:2] == (403, {"error": "challenge_invalid"})
    hard = await prove_work(bots.api)
    status, _, _ = await post_session(bots.api, {**START, "challenge": hard})
    assert status == 201  # slowed, not blocked

    # Counted: the close reason, and the challenges per level.
    await bots.statistics.step()
    await bots.assembled.service(Challenges).flush(stores)
    rows = {(c.measure, c.dimension) for c in await stores.stats.between("2000-01-01", "2100-01-01")}
    assert ("close_reasons", "dismissed") in rows
    assert {("challenges", "level:normal"), ("challenges", "level:hard")} <= rows

    # Nothing of either network was written: not in the database, not in any file.
    tables = ("visitor_case", "case_event", "queue_case", "stat_count", "outbox", "staff_post")
    dump = "\n".join(
        [repr([tuple(row) for row in await bots.db.fetch(f"SELECT * FROM {table}")]) for table in tables]  # noqa: S608
    )
    assert visitor.session["user_id"] in dump  # the dump sees the data …
    for needle in ("127.0.0.", "127.0.9.", "7f0000", "7f0009"):  # … but no address or network
        assert needle not in dump
    for path, raw in files(Path(bots.config.data_dir)):
        assert b"127.0.0." not in raw and b"127.0.9." not in raw, path
