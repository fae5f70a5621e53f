"""After the purge, no table of Synapse's database names the visitor, the room, an address or a
report (issue 23, N7; the review's fifth missing test).

A whole conversation against a real Synapse (SQLite), with what a hostile or careless use adds:
the visitor tries a pusher, a report and a device name (SECURITY.md H.40 refuses them), the
counsellor reports the visitor's message and the room and sends an attachment. The visitor's
client talks to Synapse from an address nothing else uses. Before the purge every needle is
found in some table (so the search can fail); then the clock is moved past the retention period
as the other purge tests do, the bots purge the case, and every row of every table is searched.
"""

from __future__ import annotations

import contextlib
import io
import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest

from bots.db.system_room import SystemRoomStore
from bots.queue.space import SPACE_DAYS
from keerpunt.synapse_config import synapse_dir
from tests.e2e.test_every_case_ends import step
from tests.support.bots import FakeClock, InProcessBots
from tests.support.matrix_clients import ClientFactory, TestUser
from tests.support.staff import add_counsellor
from tests.support.triage import answer_all, start_visitor
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration

VISITOR_IP = "127.0.9.41"  # the address the visitor's client uses (a loopback address nothing else uses)
ANSWERS = {"audience": "self", "danger": "no", "topic": "money-mule", "region": "utrecht"}
SECRET = "mijn neef laat me pakketjes rondbrengen"
REPORT = "bezoeker scheldt, dossier 4471 Zwolle"
DAY = 86_400


def holders(path: Path, needles: dict[str, str]) -> dict[str, list[str]]:
    """Every table with a row that contains a needle: {table: [the needles' names]}."""
    found: dict[str, list[str]] = {}
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            rows = conn.execute(f'SELECT * FROM "{table}"').fetchall()  # noqa: S608 - names from sqlite_master
            text = repr(rows)
            hits = [name for name, needle in needles.items() if needle in text]
            if hits:
                found[table] = hits
    return found


async def call(user: TestUser, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    """A request with the user's token from the visitor's own address."""
    headers = {"Authorization": f"Bearer {user.registration.access_token}"}
    connector = aiohttp.TCPConnector(local_addr=(VISITOR_IP, 0))
    async with (
        aiohttp.ClientSession(connector=connector) as http,
        http.request(method, user.client.homeserver + path, json=body, headers=headers) as resp,
    ):
        return resp.status, await resp.json(content_type=None)


# The bots put every case room in the staff Space (bots/queue/rooms.py, ``m.space.child`` with
# the room ID as state key). Taking the link out keeps the state key in the Space's state and
# history, and Synapse cannot delete one state event: so the Space is made anew every week
# (bots/queue/space.py) and the old one purged. Until that rotation these tables of the *Space*
# still name the purged room; after it, nothing does.
SPACE_CHILD_TABLES = frozenset(
    {"events", "event_json", "state_events", "current_state_events", "current_state_delta_stream", "state_groups_state"}
)


def space_child_types(path: Path, room_id: str) -> set[str]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        return {r[0] for r in conn.execute("SELECT type FROM state_events WHERE state_key = ?", (room_id,))}


@pytest.mark.fresh_bots("moves the clock through the retention period and the Space's rotation")
async def test_after_the_purge_and_the_next_rotation_of_the_space_no_synapse_table_names_the_visitor_or_the_room(
    bots: InProcessBots, clients: ClientFactory
) -> None:
    left, room_id, path, needles = await purge_a_whole_conversation(bots, clients)
    # Right after the purge: only the staff Space still names the room, as a child it had.
    outside_the_space = {t: names for t, names in left.items() if t not in SPACE_CHILD_TABLES or names != ["room"]}
    assert outside_the_space == {}, f"after the purge these tables still hold: {left}"
    assert space_child_types(path, room_id) <= {"m.space.child"}

    # The week is over: the access worker makes a new Space, purges the old one, and Synapse
    # forgets what it kept of rooms that are gone.
    rooms = SystemRoomStore(bots.db)
    old = await rooms.get("space")
    bots.clock.advance(SPACE_DAYS * DAY + 1)
    (access,) = [worker for worker in bots.assembled.workers if worker.name == "queue access"]

    async def rotated() -> bool:
        access.wake()
        return await rooms.get("space") != old and await rooms.get("space old") is None

    await wait_until(rotated, within=90, what="a new staff Space and the old one purged")

    async def nothing_left() -> bool:
        return holders(path, needles) == {}

    with contextlib.suppress(AssertionError):
        await wait_until(nothing_left, within=15, what="a rotation that leaves nothing")
    assert holders(path, needles) == {}, f"after the Space's rotation these tables still hold: {holders(path, needles)}"


async def purge_a_whole_conversation(
    bots: InProcessBots, clients: ClientFactory
) -> tuple[dict[str, list[str]], str, Path, dict[str, str]]:
    """The conversation, the purge; what every table still holds of the needles afterwards."""
    assert isinstance(bots.clock, FakeClock)
    counsellor = await add_counsellor(clients, bots.config, bots.db)
    queue_room = await SystemRoomStore(bots.db).get("queue")
    assert queue_room is not None
    visitor = await start_visitor(clients, bots.api, bots.user_id)
    client = visitor.observer.user.client
    # From here on the visitor's client reaches Synapse from its own address.
    if client.client_session is not None:
        await client.client_session.close()
    client.client_session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=(VISITOR_IP, 0)))
    await answer_all(visitor, ANSWERS)
    await counsellor.wait_for(lambda: counsellor.card(queue_room, visitor.number), what="the card")
    await counsellor.say(queue_room, f"!claim {visitor.number}")
    await counsellor.wait_for(lambda: visitor.room in counsellor.user.client.invited_rooms, what="the invite")
    await counsellor.join(visitor.room)
    said = await visitor.observer.say(visitor.room, SECRET)
    await counsellor.wait_for(lambda: SECRET in counsellor.bodies(visitor.room), what="the visitor's message")
    await counsellor.say(visitor.room, "Dank je. Wil je meer vertellen?")

    # What the visitor's token tries besides chatting (refused by the module).
    user = visitor.observer.user
    pusher = {"kind": "http", "app_id": "x", "app_display_name": "x", "device_display_name": "x", "pushkey": "k",
              "lang": "nl", "data": {"url": "https://push.example.org/_matrix/push/v1/notify"}}  # fmt: skip
    for method, path, body in [
        ("POST", "/_matrix/client/v3/pushers/set", pusher),
        ("POST", f"/_matrix/client/v3/rooms/{quote(visitor.room)}/report/{quote(said)}", {"reason": REPORT}),
        ("POST", f"/_matrix/client/v3/rooms/{quote(visitor.room)}/report", {"reason": REPORT}),
        ("PUT", f"/_matrix/client/v3/devices/{quote(user.device_id)}", {"display_name": REPORT}),
    ]:
        status, answer = await call(user, method, path, body)
        assert status == 403, (path, answer)
    # What staff may do: report the visitor's message and the room, send an attachment.
    staff = counsellor.user
    for path in (f"rooms/{quote(visitor.room)}/report/{quote(said)}", f"rooms/{quote(visitor.room)}/report"):
        async with (
            aiohttp.ClientSession() as http,
            http.post(
                f"{staff.client.homeserver}/_matrix/client/v3/{path}",
                json={"reason": REPORT},
                headers={"Authorization": f"Bearer {staff.registration.access_token}"},
            ) as answer,
        ):
            assert answer.status == 200, await answer.text()
    data = b"%PDF-1.4 folder"
    upload, _ = await staff.client.upload(io.BytesIO(data), content_type="application/pdf", filesize=len(data))
    content_uri = getattr(upload, "content_uri", None)
    assert content_uri is not None, upload
    await counsellor.say(visitor.room, f"De folder: {content_uri}")
    await counsellor.say(visitor.room, "!close helped")
    await visitor.observer.wait_message(
        visitor.room, bots.user_id, lambda e: e["content"].get("nl.keerpunt.message") == "queue.visitor.closed"
    )

    needles = {
        "visitor": visitor.observer.user_id,
        "localpart": visitor.observer.user_id.split(":")[0].removeprefix("@"),
        "room": visitor.room,
        "address": VISITOR_IP,
        "report": REPORT,
    }
    path = synapse_dir(clients.synapse.config) / "homeserver.db"

    async def every_needle_is_there() -> bool:
        found = {name for names in holders(path, needles).values() for name in names}
        return found == set(needles)

    # Synapse writes client addresses in batches: wait until the visitor's is there.
    await wait_until(every_needle_is_there, within=30, what="every needle in Synapse's tables before the purge")

    # The erase grace, then the retention period: the case is purged.
    bots.clock.advance(bots.config.queue.erase_after_minutes * 60 + 1)
    await step(bots, "queue")
    bots.clock.advance(bots.config.retention.case_room_days * DAY)
    await step(bots, "statistics")
    assert await bots.retention.run_once() == 1

    async def nothing_left() -> bool:
        return holders(path, needles) == {}

    # Some of Synapse's deletions run as background tasks a moment after the purge answers.
    with contextlib.suppress(AssertionError):
        await wait_until(nothing_left, within=15, what="a purge that leaves nothing")
    return holders(path, needles), visitor.room, path, needles
