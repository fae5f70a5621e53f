"""Stable transaction IDs: a send retried after a lost answer or a crash is one event."""

from __future__ import annotations

import json

import aiohttp
import pytest

from bots.db.outbox import OutboxStore
from bots.ids import RoomID
from bots.triage.greeting import greeting_content
from tests.support.bots import InProcessBots
from tests.support.matrix_clients import ClientFactory
from tests.support.visitor import start_and_greet
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration


async def _bot_events(clients: ClientFactory, room: str, bot: str) -> list[dict[str, object]]:
    operator = await clients.user("operator", admin=True)
    url = f"{clients.synapse.url}/_synapse/admin/v1/rooms/{room}/messages?dir=b&limit=1000"
    headers = {"Authorization": f"Bearer {operator.registration.access_token}"}
    async with aiohttp.ClientSession() as http, http.get(url, headers=headers) as resp:
        assert resp.status == 200
        chunk = (await resp.json())["chunk"]
    return [e for e in chunk if e["sender"] == bot and "state_key" not in e]


async def test_a_retried_send_with_the_same_transaction_id_is_one_event(
    bots: InProcessBots, clients: ClientFactory
) -> None:
    session, _visitor, greeting = await start_and_greet(clients, bots.api, bots.user_id)
    room = RoomID(session["room_id"])
    store = OutboxStore(bots.db)
    await wait_until(lambda: _all_sent(store, room), what="the greeting and the first question to be sent")
    sent, *others = await store.in_room(room)  # the greeting, then the first triage question
    assert sent.state == "sent" and sent.event_id == greeting.event_id and sent.content is None

    # As if the process died after Synapse stored the event but before the outbox knew.
    await bots.db.execute(
        "UPDATE outbox SET state='pending', event_id=NULL, sent_at=NULL, content=$2 WHERE txn_id=$1",
        sent.txn_id,
        json.dumps(greeting_content("nl")),
    )
    bots.assembled.sender.wake()

    async def resent() -> bool:
        row = await store.get(sent.txn_id)
        return row is not None and row.state == "sent"

    await wait_until(resent, what="the outbox to send the message again")
    again = await store.get(sent.txn_id)
    assert again is not None and again.event_id == sent.event_id and again.attempts == 2
    events = await _bot_events(clients, room, bots.user_id)
    assert sorted(e["event_id"] for e in events) == sorted([sent.event_id, *(o.event_id for o in others)])


async def _all_sent(store: OutboxStore, room: RoomID) -> bool:
    rows = await store.in_room(room)
    return len(rows) == 2 and all(r.state == "sent" for r in rows)
