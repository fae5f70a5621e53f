"""Issue 12's acceptance against a real Synapse, the clock moved by injection: six visitors, each
case ends with the right reason, the report counts them exactly, and after the purge nothing of
them is left in the bots' database, the bots' crypto store or Synapse but the counts."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
import yaml

from bots.db import Stores
from bots.db.staff import StaffStore
from bots.db.system_room import SystemRoomStore
from bots.homeserver.account import store_dir
from keerpunt.cli import main
from tests.support.bots import BotsSetup, FakeClock, InProcessBots
from tests.support.database import KEPT, rows
from tests.support.handover import (
    SUMMARY,
    Partners,
    admin_get,
    handover_extra,
    handover_room,
    make_partners,
    wait_kind,
)
from tests.support.matrix_clients import ClientFactory
from tests.support.staff import add_counsellor
from tests.support.triage import answer_all, start_visitor
from tests.support.visitor import new_session, post_session
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration

ANSWERS = {"audience": "self", "danger": "no", "topic": "money-mule", "region": "utrecht"}
DAY = 86_400


@pytest.fixture(scope="module")
async def partners(module_clients: ClientFactory, tmp_path_factory: pytest.TempPathFactory) -> Partners:
    return await make_partners(module_clients, tmp_path_factory.mktemp("partners"))


@pytest.fixture(scope="module")
def bots_extra(partners: Partners) -> dict[str, Any]:
    return {**handover_extra(partners), "statistics": {"min_cell": 1}}


@pytest.fixture(scope="module")
def bots_setup(partners: Partners) -> BotsSetup:
    async def police_is_staff(bots: InProcessBots) -> None:
        await StaffStore(bots.db).add(partners.police.user_id, "partner", "politie")

    return police_is_staff


async def step(bots: InProcessBots, *names: str) -> None:
    """A whole round of the named workers at the clock's current time (not a race with their timers)."""
    for worker in bots.assembled.workers:
        if worker.name in names:
            await worker.step()  # type: ignore[attr-defined]
    await bots.assembled.sender.flush()


async def report(bots: InProcessBots, folder: Path, days: tuple[date, date], *, min_cell: int) -> dict[str, Any]:
    """`keerpunt report --format json` from the first to the last of ``days``, over the bots' own database.

    A range, not one day: the test moves the clock 31 minutes on, which near midnight crosses into
    the next day while the sessions were counted on the day before.
    """
    config = folder / f"report-{min_cell}.yaml"
    settings = {"bots": {"database": bots.config.bots.database}, "statistics": {"min_cell": min_cell}}
    config.write_text(yaml.safe_dump({"data_dir": bots.config.data_dir, **settings}))
    out = folder / f"report-{min_cell}.json"
    first, last = days
    argv = ["--config", str(config), "report", "--from", first.isoformat(), "--to", last.isoformat()]
    assert await asyncio.to_thread(main, [*argv, "--format", "json", "--output", str(out)]) == 0
    data: dict[str, Any] = json.loads(out.read_text())
    assert (data["from"], data["to"]) == (first.isoformat(), last.isoformat()) and data["min_cell"] == min_cell
    return data


async def close_reason(stores: Stores, number: str) -> str | None:
    q = await stores.queue.workflow.by_number(number)
    case = await stores.cases.get(q.case_id) if q else None
    return case.close_reason if case else None


@pytest.mark.fresh_bots("moves the clock through the timeouts and the retention period, and counts every case")
async def test_six_visitors_end_are_counted_and_leave_nothing_behind(
    bots: InProcessBots, clients: ClientFactory, partners: Partners, tmp_path: Path
) -> None:
    assert isinstance(bots.clock, FakeClock)
    zone = ZoneInfo(bots.config.hours.timezone)
    started = datetime.fromtimestamp(bots.clock.now(), tz=UTC).astimezone(zone).date()
    stores = Stores.over(bots.db)
    api, bot = bots.api, bots.user_id
    counsellor = await add_counsellor(clients, bots.config, bots.db)
    queue_room = await SystemRoomStore(bots.db).get("queue")
    assert queue_room is not None

    # 1. Claimed, talked, closed with an outcome.
    helped = await start_visitor(clients, api, bot)
    await answer_all(helped, ANSWERS)
    await counsellor.wait_for(lambda: counsellor.card(queue_room, helped.number), what="the card")
    await counsellor.say(queue_room, f"!claim {helped.number}")
    await counsellor.wait_for(lambda: helped.room in counsellor.user.client.invited_rooms, what="the invite")
    await counsellor.join(helped.room)
    await helped.observer.say(helped.room, "ik word gedwongen mijn pas uit te lenen")
    await counsellor.say(helped.room, "!close helped")
    # 2. Silent in triage.
    silent = await start_visitor(clients, api, bot)
    await silent.answer("Voor mezelf", prompt="audience", option="self")
    # 3. Left the room while waiting.
    left = await start_visitor(clients, api, bot)
    await answer_all(left, ANSWERS)
    await left.observer.user.client.room_leave(left.room)
    # 4. Never wrote: the session was made, the widget never spoke.
    never = await new_session(api)
    # 5. Quick exit.
    fled = await start_visitor(clients, api, bot)
    await answer_all(fled, ANSWERS)
    status, _, _ = await post_session(
        api, {"reason": "quick_exit"}, headers={"Authorization": f"Bearer {fled.session['access_token']}"},
        path="/api/v1/sessions/end",
    )  # fmt: skip
    assert status == 204
    # 6. A warm handover, settled "arrived", then closed.
    handed = await start_visitor(clients, api, bot)
    await answer_all(handed, ANSWERS)
    await counsellor.wait_for(lambda: counsellor.card(queue_room, handed.number), what="the card")
    await counsellor.say(queue_room, f"!claim {handed.number}")
    await counsellor.wait_for(lambda: handed.room in counsellor.user.client.invited_rooms, what="the invite")
    await counsellor.join(handed.room)
    await handed.observer.wait_for(
        lambda: counsellor.user_id in handed.observer.user.client.rooms[handed.room].users, what="the counsellor"
    )
    handover = await handover_room(handed, counsellor, partners.police, "politie", SUMMARY)
    await partners.police.say(handover, "!accept")
    await wait_kind(partners.police, handover, bot, "handover.accepted")
    await counsellor.say(handed.room, "!handover-status arrived")
    await counsellor.say(handed.room, "!close handover")
    visitors = [helped, silent, left, fled, handed]

    async def all_closed_but_the_timed_ones() -> bool:
        reasons = [await close_reason(stores, v.number) for v in (helped, fled, handed)]
        return reasons == ["counsellor", "quick_exit", "counsellor"]

    await wait_until(all_closed_but_the_timed_ones, what="the closes")

    # The timers: never wrote and silent in triage after 30 minutes; left at once.
    bots.clock.advance(31 * 60)
    await step(bots, "lifecycle", "queue")
    reasons = {v.number: await close_reason(stores, v.number) for v in visitors}
    never_case = await stores.cases.by_room(never["room_id"])
    assert never_case is not None and never_case.close_reason == "abandoned"
    assert reasons == {
        helped.number: "counsellor",
        silent.number: "abandoned",
        left.number: "left",
        fled.number: "quick_exit",
        handed.number: "counsellor",
    }
    await step(bots, "statistics")
    today = datetime.fromtimestamp(bots.clock.now(), tz=UTC).astimezone(zone).date()
    days = (started, today)
    exact = (await report(bots, tmp_path, days, min_cell=1))["measures"]
    assert exact["sessions_started"]["total"] == 6
    assert exact["close_reasons"]["by"] == {"abandoned": 2, "counsellor": 2, "left": 1, "quick_exit": 1}
    assert exact["outcomes"]["by"] == {"handover": 1, "helped": 1}
    assert exact["queue"]["by"]["picked_up"] == 2 and exact["queue"]["by"]["abandoned_before_pickup"] == 2
    assert exact["handovers"]["by"]["police:arrived"] == 1 and exact["handovers"]["by"]["police:consented"] == 1
    assert exact["triage_answers"]["by"]["topic=money-mule"] == 4  # the silent visitor stopped after one question
    hidden = (await report(bots, tmp_path, days, min_cell=5))["measures"]
    assert hidden["close_reasons"]["by"]["left"] == "<5" and hidden["sessions_started"]["total"] == 6

    # The erase grace, then the retention period: everything is purged.
    bots.clock.advance(bots.config.queue.erase_after_minutes * 60 + 1)
    await step(bots, "queue")
    bots.clock.advance(bots.config.retention.case_room_days * DAY)
    await step(bots, "statistics")
    assert await bots.retention.run_once() == 6

    users = [v.observer.user_id for v in visitors] + [never["user_id"]]
    rooms = [v.room for v in visitors] + [never["room_id"], handover]
    await assert_nothing_left(bots, stores, clients, users, rooms)
    # The counts stay.
    assert (await report(bots, tmp_path, days, min_cell=1))["measures"] == exact


async def assert_nothing_left(
    bots: InProcessBots, stores: Stores, clients: ClientFactory, users: list[str], rooms: list[str]
) -> None:
    # The bots' database: only the kept tables have rows, and none names the cases.
    tables = await rows(stores)
    # Ready sessions (and spare accounts of older versions) are the pool for the next visitors,
    # never a case yet: they may stay, as long as none of them is a purged case's.
    tables["visitor_case"] = [row for row in tables["visitor_case"] if row["state"] != "spare"]
    pool = tables.pop("ready_session", [])
    assert all(row["state"] == "ready" for row in pool), pool
    assert not any(value in repr(pool) for value in users + rooms), "a purged case's account or room is in the pool"
    # Staff (the bot itself, the counsellor, the partner) keep their identity pins.
    tables["pinned_identity"] = [row for row in tables["pinned_identity"] if row["user_id"] in users]
    for table, found in tables.items():
        if table not in KEPT:
            assert found == [], f"{table} still holds rows of purged cases"
    flat = repr(tables)
    for value in users + rooms:
        assert value not in flat, f"{value} is still in the bots' database"
    # The bots' crypto store: no Megolm session of the rooms, no key or trust mark of the visitors.
    crypto = store_dir(bots.config) / "crypto"
    for path in crypto.iterdir():
        raw = path.read_bytes()
        for value in users + rooms:
            assert value.encode() not in raw, f"{value} is still in {path.name}"
    (database,) = [p for p in crypto.iterdir() if p.suffix == ".db"]
    with sqlite3.connect(database) as conn:
        marks = ",".join("?" * len(rooms))
        left = conn.execute(f"SELECT count(*) FROM megolminboundsessions WHERE room_id IN ({marks})", rooms)  # noqa: S608
        assert left.fetchone() == (0,)
    # Synapse: rooms gone; the accounts deactivated, erased and then forgotten altogether
    # (Keerpunt's module: no account row, device or IP row is left; issue 23, N7).
    for room in rooms:
        status, _ = await admin_get(clients, f"/_synapse/admin/v1/rooms/{quote(room)}")
        assert status == 404, room
    for user in users:
        for path in (f"/_synapse/admin/v2/users/{quote(user)}", f"/_synapse/admin/v2/users/{quote(user)}/devices"):
            status, answer = await admin_get(clients, path)
            assert status == 404, (path, answer)
        status, whois = await admin_get(clients, f"/_synapse/admin/v1/whois/{quote(user)}")
        connections = [
            c for d in whois.get("devices", {}).values() for s in d.get("sessions", []) for c in s["connections"]
        ]
        assert connections == [], f"{user} still has IP rows"
