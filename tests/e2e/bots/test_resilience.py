"""Nothing one visitor's client sends can stop the bot from answering everyone else."""

from __future__ import annotations

import base64
import json
import secrets

import aiohttp
import pytest
import vodozemac

from tests.support.bots import InProcessBots
from tests.support.matrix_clients import ClientFactory
from tests.support.visitor import keys_query, start_and_greet

pytestmark = pytest.mark.integration


async def test_a_to_device_message_the_bot_cannot_decrypt_does_not_stop_it(
    bots: InProcessBots, clients: ClientFactory
) -> None:
    assert bots.service is not None and bots.service.session is not None
    device = bots.service.session.device_id
    attacker = await clients.user("attacker")
    query = await keys_query(attacker.client, [bots.user_id])
    bot_curve = query["device_keys"][bots.user_id][device]["keys"][f"curve25519:{device}"]

    # An Olm pre-key message built on a one-time key the bot never had.
    sender = vodozemac.Account()
    stranger = vodozemac.Account()
    stranger.generate_one_time_keys(1)
    (unknown_key,) = stranger.one_time_keys.values()
    session = sender.create_outbound_session(vodozemac.Curve25519PublicKey.from_base64(bot_curve), unknown_key)
    kind, body = session.encrypt(json.dumps({"type": "m.dummy", "content": {}}).encode()).to_parts()
    content = {
        "algorithm": "m.olm.v1.curve25519-aes-sha2",
        "sender_key": sender.curve25519_key.to_base64(),
        "ciphertext": {bot_curve: {"type": kind, "body": base64.b64encode(body).decode().rstrip("=")}},
    }
    url = f"{clients.synapse.url}/_matrix/client/v3/sendToDevice/m.room.encrypted/{secrets.token_hex(8)}"
    headers = {"Authorization": f"Bearer {attacker.registration.access_token}"}
    async with (
        aiohttp.ClientSession() as http,
        http.put(url, json={"messages": {bots.user_id: {device: content}}}, headers=headers) as resp,
    ):
        assert resp.status == 200

    # The bot still answers the next visitor.
    await start_and_greet(clients, bots.api, bots.user_id)
