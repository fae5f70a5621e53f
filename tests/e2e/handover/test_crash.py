"""SIGKILL at each step between the visitor's consent and the last invite: after the restart
there is exactly one handover room, one invite per party and one summary (SECURITY.md item 23).

The bots run as a child process with ``KEERPUNT_CRASH_AT`` set (bots.failpoints), so each
test stops them at exactly one step; the restart runs without it.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bots.db import Database
from bots.db.case import CaseStore
from bots.db.handover import HandoverStore
from bots.db.outbox import OutboxStore
from bots.ids import RoomID
from tests.support.bots import BotsProcess, open_database
from tests.support.handover import (
    SUMMARY,
    Partners,
    admin_get,
    answer_consent,
    claimed_case,
    handover_extra,
    member_events,
    new_invite,
    of_kind,
    wait_kind,
)
from tests.support.matrix_clients import ClientFactory
from tests.support.synapse import SynapseProcess
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.pg]

STEPS = ["handover.creating", "handover.after_create", "handover.room_saved", "handover.invited"]


@pytest.fixture
async def bots_process(
    synapse: SynapseProcess, tmp_path: Path, bots_database: str, partners: Partners
) -> AsyncIterator[BotsProcess]:
    proc = BotsProcess(synapse, tmp_path, bots_database, handover_extra(partners))
    yield proc
    proc.terminate()


async def _handover_rooms(clients: ClientFactory, bot: str, handover_id: str) -> list[str]:
    """Every room of the bot whose m.room.create carries this handover's marker."""
    status, data = await admin_get(clients, f"/_synapse/admin/v1/users/{bot}/joined_rooms")
    assert status == 200, data
    found = []
    for room in data["joined_rooms"]:
        status, state = await admin_get(clients, f"/_synapse/admin/v1/rooms/{room}/state")
        create = next(e for e in state["state"] if e["type"] == "m.room.create")
        if create["content"].get("nl.keerpunt.handover") == handover_id:
            found.append(room)
    return found


@pytest.mark.parametrize("step", STEPS)
async def test_a_crash_at_any_step_makes_one_room_one_invite_each_one_summary(
    bots_process: BotsProcess, clients: ClientFactory, partners: Partners, step: str
) -> None:
    proc = bots_process
    bot = proc.config.bot_user_id
    await proc.start(env={"KEERPUNT_CRASH_AT": step})
    db: Database = await open_database(proc.config)
    try:
        visitor, counsellor = await claimed_case(clients, proc.config, db, proc.api)
        await counsellor.say(visitor.room, f"!handover jeugdzorg-utrecht {SUMMARY}")
        await wait_kind(visitor.observer, visitor.room, bot, "handover.consent")
        await answer_consent(visitor, "yes")

        assert proc.proc is not None
        deadline = time.monotonic() + 60
        while proc.proc.poll() is None:
            assert time.monotonic() < deadline, f"the bots never reached {step}"
            await visitor.observer.sync()
        assert f"Crash point {step} reached" in proc.log_file.read_text()

        await proc.start()
        care = partners.care
        room = await new_invite(care, within=60)
        for party in (visitor.observer, counsellor, care):
            assert room == await new_invite(party, within=60)
            await party.join(room)
        summary = await wait_kind(care, room, bot, "handover.summary", within=60)
        assert SUMMARY in summary["content"]["body"]

        case = await CaseStore(db).by_room(RoomID(visitor.room))
        assert case is not None
        (record,) = await HandoverStore(db).of_case(case.id)
        assert record.room_id == room and record.posted_at is not None
        assert await _handover_rooms(clients, bot, record.id) == [room], "a second handover room was made"
        invites = [e["state_key"] for e in await member_events(clients, room) if e["content"]["membership"] == "invite"]
        assert sorted(invites) == sorted([visitor.observer.user_id, counsellor.user_id, care.user_id])

        async def settled() -> bool:
            await care.sync()
            return not await OutboxStore(db).pending()

        await wait_until(settled, within=30, what="the outbox to empty")
        assert len(of_kind(care, room, bot, "handover.summary")) == 1
        assert len(of_kind(care, room, bot, "handover.intro")) == 1
        # The introduction, the summary and "who joined": nothing sent twice.
        assert [m.state for m in await OutboxStore(db).in_room(RoomID(room))] == ["sent"] * 3
    finally:
        await db.stop()
