"""The test harness's Synapse is real, and its access log keeps no IP or user agent."""

from __future__ import annotations

import asyncio
import secrets

import aiohttp
import pytest
from nio import MegolmEvent, RoomMessageText, RoomSendResponse

from tests.support.matrix_clients import ClientFactory
from tests.support.synapse import SynapseProcess

pytestmark = pytest.mark.integration


async def test_synapse_answers_client_versions(synapse: SynapseProcess) -> None:
    async with aiohttp.ClientSession() as http, http.get(f"{synapse.url}/_matrix/client/versions") as resp:
        assert resp.status == 200
        assert "v1.11" in (await resp.json())["versions"]


async def test_access_log_has_neither_client_ip_nor_user_agent(synapse: SynapseProcess) -> None:
    agent = f"KeerpuntProbe/{secrets.token_hex(8)}"
    marker = f"/_matrix/client/versions?probe={secrets.token_hex(6)}"
    async with aiohttp.ClientSession(headers={"User-Agent": agent}) as http, http.get(synapse.url + marker) as resp:
        assert resp.status == 200
    lines: list[str] = []
    for _ in range(50):  # the access line is written when the response finishes
        lines = [line for line in synapse.log_file.read_text().splitlines() if marker.split("?")[1] in line]
        if lines:
            break
        await asyncio.sleep(0.1)
    assert lines, "the request was not logged at all"
    log_text = synapse.log_file.read_text()
    assert agent not in log_text
    for line in lines:
        assert "Processed request" in line
        assert "127.0.0.1" not in line


async def test_registration_is_closed_to_the_public(synapse: SynapseProcess) -> None:
    async with aiohttp.ClientSession() as http:
        body = {"username": "intruder", "password": secrets.token_urlsafe(16), "auth": {"type": "m.login.dummy"}}
        async with http.post(f"{synapse.url}/_matrix/client/v3/register", json=body) as resp:
            assert resp.status == 403
        async with http.post(f"{synapse.url}/_matrix/client/v3/register?kind=guest", json={}) as resp:
            assert resp.status == 403


async def test_two_e2ee_clients_exchange_an_encrypted_message(clients: ClientFactory) -> None:
    alice, bob = await clients.user("alice"), await clients.user("bob")
    created = await alice.client.room_create(invite=[bob.registration.user_id])
    room_id = created.room_id  # type: ignore[union-attr]
    await bob.client.join(room_id)
    await alice.client.sync(timeout=0, full_state=True)
    await bob.client.sync(timeout=0, full_state=True)
    assert alice.client.rooms[room_id].encrypted, "rooms must be encrypted by default"
    await alice.client.keys_query()
    text = f"hallo {secrets.token_hex(4)}"
    sent = await alice.client.room_send(
        room_id, "m.room.message", {"msgtype": "m.text", "body": text}, ignore_unverified_devices=True
    )
    assert isinstance(sent, RoomSendResponse)
    received: list[str] = []
    for _ in range(20):
        resp = await bob.client.sync(timeout=500)
        for event in resp.rooms.join.get(room_id, None).timeline.events if room_id in resp.rooms.join else []:  # type: ignore[union-attr]
            assert not isinstance(event, MegolmEvent), "bob could not decrypt"
            if isinstance(event, RoomMessageText):
                received.append(event.body)
        if received:
            break
    assert received == [text]
