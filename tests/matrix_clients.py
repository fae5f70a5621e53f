"""Real Matrix clients for integration tests: matrix-nio with vodozemac (E2EE)."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from nio import AsyncClient, AsyncClientConfig, KeysUploadError

from bots.synapse_admin import Registration, SynapseAdmin
from keerpunt.testing import SynapseProcess


@dataclass
class TestUser:
    registration: Registration
    password: str
    client: AsyncClient


class ClientFactory:
    """Creates registered users with an E2EE nio client each; closes them at the end."""

    def __init__(self, synapse: SynapseProcess, tmp: Path) -> None:
        self.synapse = synapse
        self.tmp = tmp
        self._http: aiohttp.ClientSession | None = None
        self._users: list[TestUser] = []

    async def admin(self, token: str | None = None) -> SynapseAdmin:
        if self._http is None:
            self._http = aiohttp.ClientSession()
        return SynapseAdmin(
            self.synapse.url, session=self._http, shared_secret=self.synapse.shared_secret, access_token=token
        )

    async def user(self, prefix: str = "user", *, admin: bool = False) -> TestUser:
        localpart = f"{prefix}-{secrets.token_hex(6)}"
        password = secrets.token_urlsafe(16)
        reg = await (await self.admin()).register(localpart, password, admin=admin)
        store = self.tmp / localpart
        store.mkdir()
        client = AsyncClient(
            self.synapse.url,
            reg.user_id,
            device_id=reg.device_id,
            store_path=str(store),
            config=AsyncClientConfig(encryption_enabled=True, store_sync_tokens=True),
        )
        client.restore_login(reg.user_id, reg.device_id, reg.access_token)
        if client.should_upload_keys:
            resp = await client.keys_upload()
            assert not isinstance(resp, KeysUploadError), resp
        user = TestUser(reg, password, client)
        self._users.append(user)
        return user

    async def close(self) -> None:
        await asyncio.gather(*(u.client.close() for u in self._users), return_exceptions=True)
        if self._http is not None:
            await self._http.close()
