"""The visitor speaks first; the cross-signed bot answers with one greeting they can decrypt."""

from __future__ import annotations

import pytest

from bots.db.bot_state import SYNC_TOKEN, BotStateStore
from bots.db.case import CaseStore
from bots.db.handled_event import HandledEventStore
from bots.db.outbox import OutboxStore
from bots.ids import RoomID
from bots.texts import text
from tests.support.bots import InProcessBots
from tests.support.matrix_clients import ClientFactory
from tests.support.visitor import (
    cross_signed_by_owner,
    join,
    keys_query,
    messages_from,
    new_session,
    send,
    speak_first,
    start_and_greet,
)
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration


async def test_cross_signed_visitor_decrypts_the_greeting_after_speaking_first(
    bots: InProcessBots, clients: ClientFactory
) -> None:
    session, _visitor, greeting = await start_and_greet(clients, bots.api, bots.user_id, "en")
    assert greeting.body == text("en", "greeting.welcome")
    assert session["bot"] == bots.user_id
    assert session["open"] is True
    case = await CaseStore(bots.db).by_room(RoomID(session["room_id"]))
    assert case is not None and case.number == session["case"] and case.greeted_at is not None


async def test_bot_device_is_cross_signed_by_its_owner(bots: InProcessBots, clients: ClientFactory) -> None:
    observer = await clients.user("observer")
    assert bots.service is not None and bots.service.session is not None
    query = await keys_query(observer.client, [bots.user_id])
    assert cross_signed_by_owner(query, bots.user_id, bots.service.session.device_id)
    assert list(query["device_keys"][bots.user_id]) == [bots.service.session.device_id]


async def test_bot_stays_silent_until_the_visitor_speaks(bots: InProcessBots, clients: ClientFactory) -> None:
    session = await new_session(bots.api)
    room = RoomID(session["room_id"])
    visitor = await clients.visitor(session)
    state = BotStateStore(bots.db)
    before = await state.get(SYNC_TOKEN)
    await join(visitor, room, bots.user_id)
    # Wait until the bot has handled a sync batch that includes the join.
    await wait_until(lambda: _token_changed(state, before), what="the bot to sync the join")
    await wait_until(lambda: _has_join(bots, room, visitor.user_id), what="the bot to see the join")
    assert await OutboxStore(bots.db).in_room(room) == []
    assert await HandledEventStore(bots.db).in_room(room) == []

    await speak_first(visitor, room)
    got, failed = await messages_from(visitor, room, bots.user_id)
    assert got and not failed
    assert got[0].body == text("nl", "greeting.welcome")  # triage questions may follow in the same sync


@pytest.mark.pg  # the session concern's full run on PostgreSQL too
async def test_any_first_message_gets_the_greeting_once(bots: InProcessBots, clients: ClientFactory) -> None:
    session = await new_session(bots.api, "nl")
    room = session["room_id"]
    visitor = await clients.visitor(session)
    await join(visitor, room, bots.user_id)
    sent = [await send(visitor, room, "m.room.message", {"msgtype": "m.text", "body": f"hoi {i}"}) for i in range(3)]
    # The greeting and the first triage question, a re-ask for "hoi 1" and, since "hoi 2" is no
    # answer either, the place in the queue: one greeting, each message answered once.
    got, failed = await messages_from(visitor, room, bots.user_id, count=4)
    assert not failed and len(got) == 4
    assert [m.body for m in got].count(text("nl", "greeting.welcome")) == 1 and got[0].body == text(
        "nl", "greeting.welcome"
    )
    handled = HandledEventStore(bots.db)
    await wait_until(lambda: _all_handled(handled, room, sent), what="every message to be handled")
    records = await handled.in_room(RoomID(room))
    assert sorted(r.event_id for r in records) == sorted(sent)
    assert {r.outcome for r in records} == {"handled"}
    assert [m.event_type for m in await OutboxStore(bots.db).in_room(RoomID(room))] == ["m.room.message"] * 4


async def _token_changed(state: BotStateStore, before: str | None) -> bool:
    return await state.get(SYNC_TOKEN) != before


def _has_join(bots: InProcessBots, room: str, user: str) -> bool:
    assert bots.service is not None and bots.service.client is not None
    matrix_room = bots.service.client.rooms.get(room)
    return matrix_room is not None and user in matrix_room.users and user not in matrix_room.invited_users


async def _all_handled(handled: HandledEventStore, room: str, events: list[str]) -> bool:
    return {r.event_id for r in await handled.in_room(RoomID(room))} >= set(events)
