"""A fallback key for the bot's device (MSC2732, Matrix 1.2), which matrix-nio lacks.

Every visitor's first message needs an Olm session with the bot, made from one of the
bot's one-time keys. nio keeps 50 on the server and tops them up once per sync; a burst of
new visitors can claim them all in between. Without a key the visitor's client sends the
room key to nobody, and the bot can never read that message (the benchmark at 100
concurrent visitors lost 5 of them this way). With a fallback key Synapse hands that out
when the one-time keys run out, and the bot can still decrypt.

The key is saved in the crypto store before it is uploaded, so a crash can never leave a
published key whose private part is lost. Once Synapse reports it used, a new one replaces
it — but not sooner than ``ROTATE_AFTER`` after the last one was published: vodozemac keeps
only the current and the previous fallback key, so rotating twice while visitors' first
messages are still on their way would make those undecryptable (the benchmark at 100
concurrent visitors did exactly that). Until then Synapse keeps handing out the used key,
which is what a fallback key is for. The publication time is kept in the database, so a
restart does not rotate early either.
"""

from __future__ import annotations

import logging
from typing import Any

from bots.clock import Clock, SystemClock
from bots.db.bot_state import BotStateStore
from bots.matrix.client import BotClient

log = logging.getLogger(__name__)

KEY_TYPE = "signed_curve25519"


# Least time between two fallback keys (see above).
ROTATE_AFTER = 3600.0
PUBLISHED_AT = "fallback_key_published_at"


class FallbackKeys:
    def __init__(self, client: BotClient, state: BotStateStore, clock: Clock | None = None) -> None:
        self.client = client
        self.state = state
        self.clock: Clock = clock or SystemClock()

    async def maintain(self) -> None:
        """After a sync: publish a fallback key if there is none, or replace a used one when due."""
        unused = self.client.unused_fallback_key_types
        if unused is None or KEY_TYPE in unused:
            return
        published = await self.state.get(PUBLISHED_AT)
        if published is not None and self.clock.now() - float(published) < ROTATE_AFTER:
            return  # used, but the previous key may still be needed for messages in flight
        if await publish_fallback_key(self.client):
            await self.state.put(PUBLISHED_AT, str(self.clock.now()))


async def publish_fallback_key(client: BotClient) -> bool:
    """Upload an unused fallback key; False when it has to wait (one-time keys pending)."""
    assert client.olm is not None
    account = client.olm.account._account  # the vodozemac.Account inside nio's OlmAccount
    if account.one_time_keys:
        return False  # nio uploads those first and marks everything published afterwards
    if not account.fallback_key:
        account.generate_fallback_key()
        client.olm.save_account()  # the private key is stored before anyone can claim it
    ((key_id, key),) = account.fallback_key.items()
    signed: dict[str, Any] = {"key": key.to_base64(), "fallback": True}
    signed["signatures"] = {client.user_id: {f"ed25519:{client.device_id}": client.olm.sign_json(dict(signed))}}
    body = {"fallback_keys": {f"{KEY_TYPE}:{key_id}": signed}}
    headers = {"Authorization": f"Bearer {client.access_token}"}
    assert client.client_session is not None
    async with client.client_session.post(
        client.homeserver + "/_matrix/client/v3/keys/upload", json=body, headers=headers
    ) as resp:
        if resp.status != 200:
            raise RuntimeError(f"uploading the fallback key failed: {resp.status}")
    account.mark_keys_as_published()
    client.olm.save_account()
    client.unused_fallback_key_types = [KEY_TYPE]
    log.info("Published a new fallback key")
    return True
