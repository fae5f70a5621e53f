"""A restarted bot is the same device with the same identity and catches up on what it missed."""

from __future__ import annotations

import json

import pytest

from bots.db.handled_event import HandledEventStore
from bots.ids import RoomID
from tests.support.bots import InProcessBots
from tests.support.matrix_clients import ClientFactory
from tests.support.visitor import cross_signed_by_owner, join, keys_query, messages_from, new_session, send, speak_first
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration


@pytest.mark.fresh_bots("restarts the bots")
async def test_restart_keeps_the_device_and_the_cross_signing_identity(
    bots: InProcessBots, clients: ClientFactory
) -> None:
    observer = await clients.user("observer")
    assert bots.service is not None and bots.service.session is not None
    device = bots.service.session.device_id
    before = await keys_query(observer.client, [bots.user_id])
    await bots.restart()
    assert bots.service.session is not None and bots.service.session.device_id == device
    after = await keys_query(observer.client, [bots.user_id])
    assert after["master_keys"][bots.user_id] == before["master_keys"][bots.user_id]
    assert after["self_signing_keys"][bots.user_id] == before["self_signing_keys"][bots.user_id]
    assert list(after["device_keys"][bots.user_id]) == [device]
    assert after["device_keys"][bots.user_id][device]["keys"] == before["device_keys"][bots.user_id][device]["keys"]
    assert cross_signed_by_owner(after, bots.user_id, device)
    key_file = bots.config.path(bots.config.bots.store_dir) / "cross_signing_keys.json"
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert json.loads(key_file.read_text())["user_id"] == bots.user_id


@pytest.mark.fresh_bots("stops the bots")
async def test_messages_sent_while_the_bot_is_down_are_decrypted_and_answered(
    bots: InProcessBots, clients: ClientFactory
) -> None:
    session = await new_session(bots.api)
    room = session["room_id"]
    visitor = await clients.visitor(session)
    await join(visitor, room, bots.user_id)
    await bots.stop()
    sent = [await speak_first(visitor, room)]
    sent += [await send(visitor, room, "m.room.message", {"msgtype": "m.text", "body": f"m{i}"}) for i in range(3)]
    await bots.start()
    got, failed = await messages_from(visitor, room, bots.user_id)
    assert len(got) == 1 and not failed
    handled = HandledEventStore(bots.db)

    async def all_handled() -> bool:
        return {r.event_id for r in await handled.in_room(RoomID(room))} == set(sent)

    await wait_until(all_handled, what="every message sent while down to be handled")
    assert {r.outcome for r in await handled.in_room(RoomID(room))} == {"handled"}
