"""No log names the visitor (SECURITY.md G.31): a whole conversation through the portal, with the
bots and the portal as real processes logging at INFO, then every log is searched."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import aiohttp
import pytest
import yaml

from bots.db import Database
from bots.db.system_room import SystemRoomStore
from tests.support.bots import BotsProcess, open_database
from tests.support.matrix_clients import ClientFactory
from tests.support.staff import Observer, add_counsellor, add_outreach_worker
from tests.support.synapse import SynapseProcess, free_port
from tests.support.triage import DEFINITION, Visitor, label
from tests.support.visitor import join, post_session, speak_first

pytestmark = pytest.mark.integration

CLIENT = "127.0.7.78"  # the visitor's address as the portal sees it (a loopback address nothing else uses)
SECRET = "mijn oom laat me elke week pakketjes rondbrengen"
ANSWERS = {"audience": "self", "danger": "no", "topic": "drug-running", "region": "groningen"}


@pytest.fixture
async def bots(synapse: SynapseProcess, tmp_path: Path, bots_database: str) -> AsyncIterator[BotsProcess]:
    proc = BotsProcess(synapse, tmp_path / "bots", bots_database)
    await proc.start()
    yield proc
    proc.terminate()


@dataclass
class Portal:
    url: str
    log: Path


@pytest.fixture
def portal(bots: BotsProcess, tmp_path: Path) -> Iterator[Portal]:
    """``keerpunt run portal`` as a child process, forwarding /api/ to the bots."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    config = yaml.safe_load(bots.config_file.read_text())
    config["portal"] = {"port": port, "public_url": url, "api_url": bots.api, "workers": 1}
    config["data_dir"] = str(tmp_path / "portal-data")
    config_file = tmp_path / "portal.yaml"
    config_file.write_text(yaml.safe_dump(config))
    log = tmp_path / "portal.log"
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "keerpunt", "--config", str(config_file), "run", "portal"],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, log.read_text()
            try:
                with urllib.request.urlopen(url + "/nl/", timeout=2) as resp:  # noqa: S310 - our own loopback URL
                    if resp.status == 200:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, "the portal did not answer"
            time.sleep(0.1)
        yield Portal(url, log)
    finally:
        proc.terminate()
        proc.wait(30)


def _text(path: Path, skip_lines: int = 0) -> str:
    return "\n".join(path.read_text().splitlines()[skip_lines:])


@pytest.fixture
def synapse_log(synapse: SynapseProcess) -> Iterator[Path]:
    yield synapse.log_file


async def test_a_whole_conversation_leaves_no_visitor_in_any_log(
    bots: BotsProcess, portal: Portal, clients: ClientFactory, synapse_log: Path
) -> None:
    synapse_lines_before = len(_text(synapse_log).splitlines())
    db: Database = await open_database(bots.config)
    try:
        counsellor = await add_counsellor(clients, bots.config, db)
        queue_room = await SystemRoomStore(db).get("queue")
    finally:
        await db.stop()
    assert queue_room is not None
    # The session through the portal's /api/ (as the widget starts it), from the visitor's address.
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=(CLIENT, 0))) as http:
        status, session, _ = await post_session(portal.url, {"language": "nl", "entry": "widget"}, http=http)
    assert status == 201, session
    user = await clients.visitor(session)
    await join(user, session["room_id"], bots.config.bot_user_id)
    visitor = Visitor(Observer(user), session, bots.config.bot_user_id)
    await speak_first(user, session["room_id"], "nl")
    await visitor.next_from_bot(0, count=2)
    for question, option in ANSWERS.items():  # typed labels, as a person in a plain client would
        seen = len(visitor.from_bot())
        await visitor.answer(label(question, option))
        await visitor.next_from_bot(seen)
    await counsellor.wait_for(lambda: counsellor.card(queue_room, visitor.number), what="the card")
    await counsellor.say(queue_room, f"!claim {visitor.number}")
    await counsellor.wait_for(lambda: visitor.room in counsellor.user.client.invited_rooms, what="the invite")
    await counsellor.join(visitor.room)
    await visitor.observer.say(visitor.room, SECRET)
    await counsellor.wait_for(lambda: SECRET in counsellor.bodies(visitor.room), what="the visitor's message")
    await counsellor.say(visitor.room, "!close helped")
    await visitor.observer.wait_message(
        visitor.room,
        bots.config.bot_user_id,
        lambda e: e["content"].get("nl.keerpunt.message") == "queue.visitor.closed",
    )
    await asyncio.sleep(1)  # let every process write what it logs about the close
    bots.terminate()

    bots_text, portal_text = _text(bots.log_file), _text(portal.log)
    synapse_text = _text(synapse_log, synapse_lines_before)
    # The logs are there and say things (otherwise the search below proves nothing).
    assert f"Case {visitor.number} opened" in bots_text
    assert "Processed request" in synapse_text and "POST" in synapse_text
    assert "portal listening" in portal_text
    labels = [label(q, o) for q, o in ANSWERS.items() if len(label(q, o)) > 3]
    needles = [
        session["user_id"],
        quote(session["user_id"]),
        session["room_id"],
        quote(session["room_id"]),
        session["room_id"].replace(":", "%3A"),  # as request paths mix them
        session["user_id"].replace(":", "%3A"),
        session["user_id"].split(":")[0].removeprefix("@"),  # the localpart alone
        SECRET,
        CLIENT,
        *labels,
    ]
    for name, text in (("bots", bots_text), ("portal", portal_text), ("synapse", synapse_text)):
        for needle in needles:
            assert needle not in text, f"the {name} log names {needle!r}"
    assert len(DEFINITION.questions) == len(ANSWERS)


def _files_under(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()]


async def test_an_outreach_code_leaves_no_trace_in_logs_or_tables(
    bots: BotsProcess, portal: Portal, clients: ClientFactory, synapse: SynapseProcess
) -> None:
    """Issue 14: after an invite is made and used, the code is in no log of Synapse, the bots or
    the portal, and in no table (bots or Synapse) or file in clear."""
    synapse_lines_before = len(_text(synapse.log_file).splitlines())
    db: Database = await open_database(bots.config)
    try:
        worker = await add_outreach_worker(clients, bots.config, db)
        outreach_room = await SystemRoomStore(db).get("outreach")
    finally:
        await db.stop()
    assert outreach_room is not None
    asked = await worker.say(outreach_room, "!outreach link")

    def the_invite() -> dict[str, str] | None:
        for event in worker.messages(outreach_room):
            invite = event["content"].get("nl.keerpunt.invite")
            if (
                invite
                and (event["content"].get("m.relates_to") or {}).get("m.in_reply_to", {}).get("event_id") == asked
            ):
                return dict(invite)
        return None

    invite = await worker.wait_for(the_invite, what="the invite")
    code = invite["code"]
    await worker.wait_for(
        lambda: any(e["content"].get("msgtype") == "m.image" for e in worker.messages(outreach_room)), what="the QR"
    )
    # The visitor opens the link through the portal (as the widget does: the code in the body).
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=(CLIENT, 0))) as http:
        body = {"language": "nl", "entry": "outreach", "invite": code}
        status, session, _ = await post_session(portal.url, body, http=http)
    assert status == 201, session
    user = await clients.visitor(session)
    await join(user, session["room_id"], bots.config.bot_user_id)
    await speak_first(user, session["room_id"], "nl")
    await worker.wait_for(lambda: session["room_id"] in worker.user.client.invited_rooms, what="the routed chat")
    await asyncio.sleep(1)  # let every process write what it logs
    bots.terminate()

    raw = code.replace("-", "")
    needles = [code, raw, code.lower(), raw.lower(), quote(code)]
    texts = {
        "bots log": _text(bots.log_file),
        "portal log": _text(portal.log),
        "synapse log": _text(synapse.log_file, synapse_lines_before),
    }
    assert "Processed request" in texts["synapse log"] and "portal listening" in texts["portal log"]
    for name, found in texts.items():
        for needle in needles:
            assert needle not in found, f"the {name} names the code"
    # Every file the bots and Synapse keep (databases, crypto store, media), byte by byte.
    files = _files_under(bots.config.data_path) + _files_under(synapse.config.data_path)
    assert any(p.name == "homeserver.db" for p in files) and any(p.suffix == ".db" for p in files if "bots" in str(p))
    for path in files:
        data = path.read_bytes()
        for needle in needles:
            assert needle.encode() not in data, f"{path} holds the code in clear"
    # And on PostgreSQL, every text column of every table of the bots' database.
    if bots.config.bots.database.startswith("postgresql://"):
        db = await open_database(bots.config)
        try:
            tables = await db.fetch("SELECT tablename FROM pg_tables WHERE schemaname='public'")
            for row in tables:
                dump = await db.fetchval(f"SELECT COALESCE(string_agg(t::text, ' '), '') FROM {row['tablename']} t")  # noqa: S608
                assert not any(n in dump for n in needles), f"table {row['tablename']} holds the code"
        finally:
            await db.stop()
