"""Issue 13 on Element's own crypto stack: a counsellor's new session in matrix-js-sdk with the
Rust crypto in strict mode (``OnlySignedDevicesIsolationMode``) decrypts the two waiting cards
within 10 s of its device being cross-signed. ``test_new_session.py`` proves the same with nio;
the client here is ``counsellor_jssdk.mjs``, run with Node from the widget's packages."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from bots.crypto.cross_signing import ensure_device_cross_signed
from bots.db.system_room import SystemRoomStore
from bots.ids import DeviceID
from tests.support.bots import InProcessBots
from tests.support.matrix_clients import ClientFactory
from tests.support.staff import add_counsellor
from tests.support.triage import answer_all, start_visitor

pytestmark = pytest.mark.integration

ANSWERS = {"audience": "self", "danger": "no", "topic": "debts", "region": "friesland"}
SCRIPT = Path(__file__).with_name("counsellor_jssdk.mjs")
JS_SDK = Path(__file__).resolve().parents[3] / "widget" / "node_modules" / "matrix-js-sdk"
NODE = shutil.which("node")
WITHIN = 10.0  # the acceptance figure of issue 13
LINE_TIMEOUT = 60.0  # login, crypto start, first sync and key upload (a few seconds on CI)


def _require_node() -> str:
    """Node and the widget's js-sdk; CI has both (`make setup`), so there a lack is a failure."""
    missing = "node is not on PATH" if NODE is None else None
    if missing is None and not JS_SDK.is_dir():
        missing = "widget/node_modules has no matrix-js-sdk (run `make setup`)"
    if missing is None:
        return str(NODE)
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(missing)
    pytest.skip(missing)


async def _line(proc: asyncio.subprocess.Process, within: float) -> dict[str, Any]:
    """The script's next JSON line; TimeoutError after ``within`` seconds."""
    assert proc.stdout is not None
    raw = await asyncio.wait_for(proc.stdout.readline(), within)
    if not raw:
        raise AssertionError(f"the js-sdk client exited ({await proc.wait()}) without an answer; see its stderr")
    return dict(json.loads(raw))


def _case_of(outcome: dict[str, Any]) -> str | None:
    content = outcome.get("content") or {}
    card = content.get("nl.keerpunt.card") if outcome.get("decrypted") else None
    return str(card["case"]) if isinstance(card, dict) and "case" in card else None


async def test_a_new_js_sdk_session_in_strict_mode_decrypts_the_waiting_cards_within_ten_seconds(
    bots: InProcessBots, clients: ClientFactory
) -> None:
    node = _require_node()
    counsellor = await add_counsellor(clients, bots.config, bots.db)
    queue_room = await SystemRoomStore(bots.db).get("queue")
    assert queue_room is not None
    visitors = [await start_visitor(clients, bots.api, bots.user_id) for _ in range(2)]
    for visitor in visitors:
        await answer_all(visitor, ANSWERS)
        await counsellor.wait_for(lambda v=visitor: counsellor.card(queue_room, v.number), what="the card")
    waiting = {v.number for v in visitors}

    proc = await asyncio.create_subprocess_exec(
        node,
        str(SCRIPT),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        limit=1 << 20,  # a line carries a decrypted card
    )
    assert proc.stdin is not None
    try:
        config = {
            "homeserver": clients.synapse.url,
            "user_id": counsellor.user_id,
            "password": counsellor.user.password,
            "room_id": queue_room,
            "within": WITHIN + 5,  # the script's own deadline; then it lists what it has
        }
        proc.stdin.write((json.dumps(config) + "\n").encode())
        await proc.stdin.drain()
        seen: dict[str, dict[str, Any]] = {}  # event id → last outcome, for the failure message
        hello = await _line(proc, LINE_TIMEOUT)
        while "device_id" not in hello:  # what the first sync brought (the old cards, unreadable)
            seen[hello["event"]["event_id"]] = hello["event"]
            hello = await _line(proc, LINE_TIMEOUT)
        device_id = DeviceID(hello["device_id"])

        # Signed with the counsellor's self-signing key (kept in the nio device's store), as
        # Element would after the counsellor confirms the new session from their other one.
        assert counsellor.user.store is not None
        api = await clients.admin(counsellor.user.registration.access_token)
        await ensure_device_cross_signed(api, counsellor.user_id, device_id, counsellor.user.store)
        signed_at = time.monotonic()
        proc.stdin.write(b"signed\n")
        await proc.stdin.drain()

        decrypted: dict[str, float] = {}  # case number → seconds after signing
        shields: dict[str, Any] = {}  # case number → the shield Element would show on the card
        while not waiting <= decrypted.keys():
            left = WITHIN - (time.monotonic() - signed_at)
            if left <= 0:
                break
            try:
                line = await _line(proc, left)
            except TimeoutError:
                break
            if "event" in line:
                seen[line["event"]["event_id"]] = line["event"]
                number = _case_of(line["event"])
                if number in waiting and number not in decrypted:
                    decrypted[number] = time.monotonic() - signed_at
                    shields[number] = line["event"]["shield"]
        took = max(decrypted.values(), default=float("nan"))
        print(f"js-sdk (strict) new session: cards decrypted {sorted(decrypted.items())}; both after {took:.2f} s")
        outcomes = [
            {k: o[k] for k in ("event_id", "decrypted", "failure", "type", "ms_after_signed")} for o in seen.values()
        ]
        assert waiting <= decrypted.keys(), (
            f"within {WITHIN} s of signing the js-sdk session decrypted cards {sorted(decrypted)} "
            f"of {sorted(waiting)}; what it saw in the queue room: {outcomes}"
        )
        assert took < WITHIN
        # No warning on the cards: the bot's device is cross-signed (an unsigned one: red).
        assert all(s == {"colour": 0, "reason": None} for s in shields.values()), shields
    finally:
        if proc.returncode is None:
            proc.stdin.close()
            try:
                await asyncio.wait_for(proc.wait(), 10)
            except TimeoutError:
                proc.kill()
                await proc.wait()
