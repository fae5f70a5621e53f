"""`keerpunt dev --workers`: a whole conversation through Caddy against Synapse's workers.

The stack is the real one (`keerpunt dev --workers`: Synapse's main process and workers on
PostgreSQL and Redis, Debian's caddy routing from keerpunt/base/routing.py, the bots, the portal).
A visitor starts a chat through the public router, answers the triage, the counsellor signs in
on a new session (a new laptop) after the card was posted and reads it there (the bots see the
new cross-signed device through the device_lists stream and post the card again), the counsellor
claims it and both talk; in the middle a generic worker is stopped and the event persister killed
(the stack starts them again, as compose's restart policy would). No message is lost or doubled,
and every process's log shows it served its share. Then a warm handover to a partner (consent,
the new room, the summary, !accept) through the same workers.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from bots.crypto.cross_signing import KEY_FILE
from keerpunt.base.config import load_config
from keerpunt.base.routing import WORKERS
from keerpunt.devworkers import EFFECTIVE_CONFIG, missing_services
from keerpunt.workers import address, worker_log_path
from tests.support.bots import ORIGIN
from tests.support.devstack import DevStack
from tests.support.handover import answer_consent, new_invite, wait_kind
from tests.support.matrix_clients import ClientFactory
from tests.support.staff import Observer
from tests.support.synapse import ALWAYS_OPEN, SynapseProcess, free_port, free_port_block
from tests.support.triage import Visitor, answer_all, start_visitor

pytestmark = pytest.mark.integration
IN_CI = os.environ.get("CI", "").lower() == "true"
ANSWERS = {"audience": "self", "danger": "no", "topic": "debts", "region": "utrecht"}


PARTNERS = {
    "partners": [
        {
            "id": "politie",
            "name": "Politie",
            "kind": "police",
            "regions": ["national"],
            "description": {"nl": "Aangifte doen en bescherming.", "en": "Reporting and protection."},
        }
    ]
}
SUMMARY = "Jongere wordt gedwongen pakketjes rond te brengen; wil aangifte doen."


def _write_config(path: Path) -> None:
    partners = path.parent / "partners.yaml"
    partners.write_text(yaml.safe_dump(PARTNERS, allow_unicode=True))
    base = free_port_block(14)
    hs = f"http://127.0.0.1:{free_port()}"
    api = free_port()
    path.write_text(
        yaml.safe_dump(
            {
                "homeserver": {"public_url": hs, "internal_url": hs},
                "synapse": {"port": free_port(), "workers": {"base_port": base}},
                "bots": {"metrics_port": free_port(), "api": {"port": api, "allowed_origins": [ORIGIN]}},
                "portal": {"port": free_port(), "api_url": f"http://127.0.0.1:{api}"},
                "hours": ALWAYS_OPEN,
                "handover": {"partners_file": str(partners)},
            }
        )
    )


@pytest.fixture
def workers_stack(tmp_path: Path) -> Iterator[DevStack]:
    config_path = tmp_path / "keerpunt.yaml"
    _write_config(config_path)
    missing = missing_services(load_config(config_path, data_dir=str(tmp_path / "data")))
    if missing and not IN_CI:
        pytest.skip("; ".join(missing))
    assert not missing, missing
    stack = DevStack(config_path, tmp_path / "data", "--workers")
    stack.start(timeout=240)
    yield stack
    if stack.proc is not None and stack.proc.poll() is None:
        assert stack.stop() == 0
    leftover = subprocess.run(["pgrep", "-f", str(stack.data_dir)], capture_output=True, text=True, check=False)
    assert leftover.stdout.strip() == "", f"processes left behind: {leftover.stdout}"
    _drop_database(stack)


def _drop_database(stack: DevStack) -> None:
    import asyncio

    import asyncpg

    config = load_config(stack.data_dir / EFFECTIVE_CONFIG, data_dir=str(stack.data_dir))
    name = (stack.data_dir / "synapse" / "dev-database").read_text().strip()

    async def drop() -> None:
        conn = await asyncpg.connect(config.synapse.workers.dev_postgres)
        try:
            await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        finally:
            await conn.close()

    asyncio.run(drop())


def _pid(stack: DevStack, worker: str) -> int:
    found = subprocess.run(
        ["pgrep", "-f", str(stack.data_dir / "synapse" / "workers" / f"{worker}.yaml")],
        capture_output=True,
        text=True,
        check=False,
    )
    pids = found.stdout.split()
    assert len(pids) == 1, f"{worker}: {found.stdout!r}"
    return int(pids[0])


async def _restart(stack: DevStack, worker: str, sig: signal.Signals) -> None:
    """Stop one worker; the stack starts it again; wait until it listens again."""
    import asyncio

    config = load_config(stack.data_dir / EFFECTIVE_CONFIG, data_dir=str(stack.data_dir))
    old = _pid(stack, worker)
    os.kill(old, sig)
    at = address(config, worker)
    port = at.http_port if worker != "persister1" else at.replication_port
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if _pid(stack, worker) != old:
                _, writer = await asyncio.open_connection(at.host, port)
                writer.close()
                return
        except (AssertionError, OSError):
            pass
        await asyncio.sleep(0.2)
    raise AssertionError(f"{worker} did not come back")


def _count(observer: Observer, room: str, sender: str, body: str) -> int:
    return sum(1 for e in observer.messages(room, sender) if e["content"].get("body") == body)


async def _say_and_see(sender: Observer, reader: Observer, room: str, body: str) -> None:
    await sender.say(room, body)
    await reader.wait_message(room, sender.user_id, lambda e: e["content"].get("body") == body, within=30)


async def test_a_conversation_through_caddy_survives_worker_restarts(workers_stack: DevStack, tmp_path: Path) -> None:
    stack = workers_stack.stack()
    config = load_config(workers_stack.data_dir / EFFECTIVE_CONFIG, data_dir=str(workers_stack.data_dir))
    assert stack["homeserver"] == config.homeserver.public_url != config.homeserver.internal_url
    # The test's clients: the visitor through the public router (from the session answer),
    # registration and cross-signing through the bots' router (the public one refuses admin paths).
    clients = ClientFactory(SynapseProcess(config, "postgres"), tmp_path)
    try:
        counsellor = await _counsellor(clients, stack)  # on duty before the chat starts
        visitor = await start_visitor(clients, stack["api"], config.bot_user_id, "nl")
        await answer_all(visitor, ANSWERS)
        await _new_session_reads_the_card(clients, workers_stack, counsellor, visitor)
        await _claim(counsellor, visitor, stack["queue_room"])

        room = visitor.room
        said: list[tuple[Observer, str]] = []

        async def turn(sender: Observer, reader: Observer, body: str) -> None:
            await _say_and_see(sender, reader, room, body)
            said.append((sender, body))

        await turn(counsellor, visitor.observer, "Hoi, ik ben er. Wat is er gebeurd?")
        await turn(visitor.observer, counsellor, "Ik moet pakketjes rondbrengen.")
        await _restart(workers_stack, "client1", signal.SIGTERM)
        await turn(counsellor, visitor.observer, "Dat klinkt zwaar. Ben je nu veilig?")
        await turn(visitor.observer, counsellor, "Ja, ik ben thuis.")
        await _restart(workers_stack, "persister1", signal.SIGKILL)
        await turn(visitor.observer, counsellor, "Wat kan ik doen?")
        await turn(counsellor, visitor.observer, "We zoeken samen uit wat kan.")

        # The warm handover through the workers: consent, the room with the partner, !accept.
        intake = await _partner_intake(clients, workers_stack)
        await counsellor.say(room, f"!handover politie {SUMMARY}")
        await wait_kind(visitor.observer, room, config.bot_user_id, "handover.consent")
        await answer_consent(visitor, "yes")
        handover = await new_invite(intake, within=60)
        await intake.join(handover)
        summary = await wait_kind(intake, handover, config.bot_user_id, "handover.summary", within=60)
        assert SUMMARY in summary["content"]["body"]
        await intake.say(handover, "!accept")
        await new_invite(visitor.observer, within=60)
        await visitor.observer.join(handover)
        await wait_kind(visitor.observer, handover, config.bot_user_id, "handover.accepted", within=60)
        assert not intake.undecryptable

        # Exactly once on both sides, nothing left undecryptable.
        for observer in (visitor.observer, counsellor):
            await observer.sync()
            for sender, body in said:
                assert _count(observer, room, sender.user_id, body) == 1, (observer.user_id, body)
            assert not observer.undecryptable
        assert not [e for e in visitor.from_bot() if "error" in e["content"].get("body", "").lower()]
    finally:
        await clients.close()
    _each_process_served_requests(workers_stack)
    await _metrics_show_the_run(config.bots.metrics_port, stack["homeserver"])


async def _metrics_show_the_run(port: int, public: str) -> None:
    import aiohttp

    async with aiohttp.ClientSession() as http:
        async with http.get(f"http://127.0.0.1:{port}/metrics") as resp:
            assert resp.status == 200
            text = await resp.text()
        for path in ("/metrics", "/_synapse/metrics", "/_matrix/../metrics"):
            async with http.get(public + path) as resp:
                assert resp.status == 404, path
    values = {
        line.split(" ")[0]: float(line.split(" ")[1])
        for line in text.splitlines()
        if line.startswith("keerpunt_") and " " in line
    }
    assert values["keerpunt_sessions_started_total"] >= 1
    assert values["keerpunt_live_cases"] >= 1
    assert values["keerpunt_queue_length"] == 0  # claimed
    assert values["keerpunt_sync_lag_seconds"] < 60
    assert values["keerpunt_outbox_backlog"] == 0
    for name in ("keerpunt_decryption_failures", "keerpunt_ready_sessions", "keerpunt_queue_oldest_waiting_seconds"):
        assert name in values


async def _partner_intake(clients: ClientFactory, workers_stack: DevStack) -> Observer:
    """The police's intake member: a local partner account, as `keerpunt staff add` makes it."""
    # With the stack's effective config: its internal_url is the bots' router (the public one
    # refuses the admin API that registration uses).
    effective = workers_stack.data_dir / EFFECTIVE_CONFIG
    added = subprocess.run(
        [sys.executable, "-m", "keerpunt", "--config", str(effective), "--data-dir", str(workers_stack.data_dir),
         "staff", "add", "Intake", "--role", "partner", "--partner", "politie"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    user_id = re.search(r"@partner-[0-9a-f]{6}:[a-z0-9.:-]+", added.stdout)
    assert user_id is not None, added.stdout
    password = added.stdout.strip().splitlines()[-1].split(": ")[-1]
    user = await clients.login(user_id[0], password, workers_stack.stack()["homeserver"])
    await clients.cross_sign(user)
    return Observer(user)


async def _counsellor(clients: ClientFactory, stack: dict[str, Any]) -> Observer:
    account = stack["accounts"]["counsellors"][0]
    user = await clients.login(account["user_id"], account["password"], stack["homeserver"])
    await clients.cross_sign(user)
    observer = Observer(user)
    await observer.wait_for(lambda: stack["queue_room"] in user.client.rooms, what="the queue room")
    return observer


async def _new_session_reads_the_card(
    clients: ClientFactory, workers_stack: DevStack, counsellor: Observer, visitor: Visitor
) -> None:
    """The counsellor signs in on a new device after the card was posted (and after the
    to_device and device_lists writer restarted), cross-signs it with the account's own keys (as
    Element does after verifying), and reads the card there: the bots see the device in /sync's
    device_lists.changed and post the live cards again for it, the room key by sendToDevice."""
    stack = workers_stack.stack()
    queue_room = stack["queue_room"]
    await counsellor.wait_for(lambda: counsellor.card(queue_room, visitor.number), within=30, what="the case card")
    await _restart(workers_stack, "streams1", signal.SIGKILL)
    account = stack["accounts"]["counsellors"][0]
    laptop = await clients.login(account["user_id"], account["password"], stack["homeserver"])
    assert laptop.store is not None and counsellor.user.store is not None
    shutil.copyfile(counsellor.user.store / KEY_FILE, laptop.store / KEY_FILE)
    await clients.cross_sign(laptop)
    assert laptop.cross_signing is not None and counsellor.user.cross_signing is not None
    assert laptop.cross_signing.master_public == counsellor.user.cross_signing.master_public
    new = Observer(laptop)
    signed_at = time.monotonic()
    await new.wait_for(lambda: new.card(queue_room, visitor.number), within=20, what="the card on the new session")
    assert time.monotonic() - signed_at < 20


async def _claim(counsellor: Observer, visitor: Visitor, queue_room: str) -> None:
    await counsellor.wait_for(lambda: counsellor.card(queue_room, visitor.number), within=30, what="the case card")
    await counsellor.say(queue_room, f"!claim {visitor.number}")
    await counsellor.wait_for(lambda: visitor.room in counsellor.user.client.invited_rooms, within=30, what="invite")
    await counsellor.join(visitor.room)
    await visitor.observer.wait_for(
        lambda: counsellor.user_id in visitor.observer.user.client.rooms[visitor.room].users, what="the counsellor"
    )


def _each_process_served_requests(stack: DevStack) -> None:
    sdir = stack.data_dir / "synapse"
    served = {w.name: worker_log_path(sdir, w.name).read_text() for w in WORKERS}
    served["main"] = (sdir / "homeserver.log").read_text()
    assert "GET /_matrix/client/v3/sync" in served["sync1"]
    assert "/_matrix/client/v3/rooms/" in served["client1"] and "/send/" in served["client1"]
    assert "/_synapse/replication/send_events" in served["persister1"]
    assert "/_matrix/client/v3/keys/upload" in served["streams1"]
    assert "sendToDevice" in served["streams1"]
    assert "/_synapse/admin/" in served["main"]
    assert "Processed request" not in served["background1"], "the background worker serves no requests"
    for name, text in served.items():
        assert "127.0.0.1" not in text, f"{name}'s log names an address"
