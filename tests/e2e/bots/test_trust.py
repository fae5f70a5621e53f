"""The bot shares room keys only with cross-signed devices and ignores unsigned senders."""

from __future__ import annotations

import pytest
from nio import MegolmEvent

from bots.db.handled_event import HandledEventStore
from bots.db.outbox import OutboxStore
from bots.ids import RoomID
from tests.support.bots import InProcessBots
from tests.support.matrix_clients import ClientFactory
from tests.support.visitor import join, messages_from, new_session, speak_first, sync_until
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration


async def test_messages_from_a_device_that_is_not_cross_signed_are_ignored(
    bots: InProcessBots, clients: ClientFactory
) -> None:
    session = await new_session(bots.api)
    room = RoomID(session["room_id"])
    visitor = await clients.visitor(session, cross_sign=False)
    await join(visitor, room, bots.user_id)
    event_id = await speak_first(visitor, room)
    handled = HandledEventStore(bots.db)
    records = await wait_until(lambda: handled.in_room(room), what="the bot to handle the start event")
    assert [(r.event_id, r.outcome) for r in records] == [(event_id, "ignored_untrusted")]
    assert await OutboxStore(bots.db).in_room(room) == [], "the bot answered an unsigned device"


async def test_a_device_its_owner_did_not_sign_gets_no_room_key(bots: InProcessBots, clients: ClientFactory) -> None:
    session = await new_session(bots.api)
    room = session["room_id"]
    signed = await clients.visitor(session)
    unsigned = await clients.second_device(signed)
    await join(signed, room, bots.user_id)
    await sync_until(unsigned.client, lambda: room in unsigned.client.rooms)
    await speak_first(signed, room)
    got, failed = await messages_from(signed, room, bots.user_id, count=2)  # the greeting, the first question
    assert len(got) == 2 and not failed, "the cross-signed device must read the greeting"

    # The other device sees the same event but never got its key.
    seen, undecryptable = await messages_from(unsigned, room, bots.user_id, within=3)
    assert seen == []
    assert sorted(e.event_id for e in undecryptable) == sorted(m.event_id for m in got)
    assert isinstance(undecryptable[0], MegolmEvent)
    assert unsigned.client.olm.inbound_group_store.get(room, got[0].sender_key, got[0].session_id) is None
