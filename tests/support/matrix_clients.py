"""Real Matrix clients for integration tests: matrix-nio with vodozemac (E2EE).

``ClientFactory.user()`` registers a user with an E2EE client whose keys are uploaded. With
``cross_sign=True`` (or ``factory.cross_sign(user)``) the device is also cross-signed by its
owner, with the bots' own cross-signing helper, as a strict client such as Element expects.
``ClientFactory.visitor()`` wraps the account a session API answer hands out.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from nio import AsyncClient, AsyncClientConfig, KeysUploadError

from bots.crypto.cross_signing import CrossSigningKeys, ensure_device_cross_signed
from bots.homeserver.admin import Registration, SynapseAdmin
from bots.ids import DeviceID, UserID
from bots.matrix.resilient import ResilientClient

from .synapse import SynapseProcess


@dataclass
class TestUser:
    __test__ = False  # not a test class, even when a test module imports it

    registration: Registration
    password: str
    client: AsyncClient
    store: Path | None = None
    cross_signing: CrossSigningKeys | None = None

    @property
    def user_id(self) -> UserID:
        return self.registration.user_id

    @property
    def device_id(self) -> DeviceID:
        return self.registration.device_id


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

    async def _client(self, reg: Registration, name: str, homeserver: str | None = None) -> tuple[AsyncClient, Path]:
        store = self.tmp / f"{name}-{secrets.token_hex(3)}"
        store.mkdir()
        client = ResilientClient(  # nio with its outage faults mended, as the bots use it
            homeserver or self.synapse.url,
            reg.user_id,
            device_id=reg.device_id,
            store_path=str(store),
            config=AsyncClientConfig(encryption_enabled=True, store_sync_tokens=True),
        )
        client.restore_login(reg.user_id, reg.device_id, reg.access_token)
        if client.should_upload_keys:
            resp = await client.keys_upload()
            assert not isinstance(resp, KeysUploadError), resp
        return client, store

    async def user(self, prefix: str = "user", *, admin: bool = False, cross_sign: bool = False) -> TestUser:
        localpart = f"{prefix}-{secrets.token_hex(6)}"
        password = secrets.token_urlsafe(16)
        reg = await (await self.admin()).register(localpart, password, admin=admin)
        client, store = await self._client(reg, localpart)
        user = TestUser(reg, password, client, store)
        self._users.append(user)
        if cross_sign:
            await self.cross_sign(user)
        return user

    async def visitor(self, session: dict[str, Any], *, cross_sign: bool = True) -> TestUser:
        """The visitor's client from a ``POST /api/v1/sessions`` answer (as the widget would)."""
        reg = Registration(UserID(session["user_id"]), session["access_token"], DeviceID(session["device_id"]))
        client, store = await self._client(reg, "visitor", session["homeserver"])
        user = TestUser(reg, "", client, store)
        self._users.append(user)
        if cross_sign:
            await self.cross_sign(user)
        return user

    async def login(
        self, user_id: str, password: str, homeserver: str | None = None, *, source: str | None = None
    ) -> TestUser:
        """A new device of an existing account (a demo counsellor of the dev stack), keys uploaded.

        ``source``: a loopback address to log in from, each with its own share of Synapse's
        ``rc_login`` per-address limit (many counsellors on a stack with production limits).
        """
        if source is None:
            data = await (await self.admin()).login_password(UserID(user_id), password)
        else:
            async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=(source, 0))) as http:
                admin = SynapseAdmin(self.synapse.url, session=http)
                data = await admin.login_password(UserID(user_id), password)
        reg = Registration(UserID(data["user_id"]), data["access_token"], DeviceID(data["device_id"]))
        client, store = await self._client(reg, "login", homeserver)
        user = TestUser(reg, password, client, store)
        self._users.append(user)
        return user

    async def second_device(self, user: TestUser) -> TestUser:
        """Another device of ``user`` (keys uploaded, not cross-signed), via an admin password reset."""
        password = secrets.token_urlsafe(16)
        admin = await self.admin()
        operator = await self.user("operator", admin=True)
        await admin.request(
            "POST",
            f"/_synapse/admin/v1/reset_password/{user.user_id}",
            {"new_password": password, "logout_devices": False},
            token=operator.registration.access_token,
        )
        data = await admin.login_password(user.user_id, password)
        reg = Registration(UserID(data["user_id"]), data["access_token"], DeviceID(data["device_id"]))
        client, store = await self._client(reg, "second")
        other = TestUser(reg, password, client, store)
        self._users.append(other)
        return other

    async def cross_sign(self, user: TestUser) -> CrossSigningKeys:
        assert user.store is not None
        api = await self.admin(user.registration.access_token)
        user.cross_signing = await ensure_device_cross_signed(api, user.user_id, user.device_id, user.store)
        return user.cross_signing

    async def close(self) -> None:
        await asyncio.gather(*(u.client.close() for u in self._users), return_exceptions=True)
        if self._http is not None:
            await self._http.close()
