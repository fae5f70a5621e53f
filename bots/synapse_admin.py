"""The few Synapse admin and client calls Keerpunt makes outside the bots' Matrix client.

Account creation goes through shared-secret registration (HMAC over a nonce), which returns
an access token and a device, so nobody needs /login. Calls are retried with backoff on
connection errors and 5xx/429 answers.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import aiohttp

from .ids import DeviceID, RoomID, UserID

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class SynapseError(Exception):
    def __init__(self, status: int, errcode: str, message: str) -> None:
        self.status = status
        self.errcode = errcode
        super().__init__(f"{status} {errcode}: {message}")


@dataclass(frozen=True)
class Registration:
    user_id: UserID
    access_token: str
    device_id: DeviceID


class SynapseAdmin:
    """A thin async client for Synapse's admin API (and the client calls provisioning needs)."""

    def __init__(
        self,
        base_url: str,
        *,
        session: aiohttp.ClientSession,
        shared_secret: str | None = None,
        access_token: str | None = None,
        attempts: int = 5,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = session
        self.shared_secret = shared_secret
        self.access_token = access_token
        self.attempts = attempts

    async def request(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None = None,
        *,
        token: str | None = None,
        auth: bool = True,
    ) -> dict[str, Any]:
        headers = {}
        bearer = token or self.access_token
        if auth and bearer:
            headers["Authorization"] = f"Bearer {bearer}"
        delay = 0.2
        for attempt in range(1, self.attempts + 1):
            try:
                async with self.session.request(method, self.base_url + path, json=body, headers=headers) as resp:
                    data = await resp.json(content_type=None) if resp.content_length != 0 else {}
                    if resp.status < 400:
                        return data or {}
                    if resp.status in RETRY_STATUSES and attempt < self.attempts:
                        retry_ms = (data or {}).get("retry_after_ms")
                        await asyncio.sleep(min(retry_ms / 1000, 10) if retry_ms else delay)
                        delay = min(delay * 2, 5)
                        continue
                    data = data or {}
                    raise SynapseError(resp.status, data.get("errcode", "?"), data.get("error", ""))
            except (aiohttp.ClientConnectionError, TimeoutError) as exc:
                if attempt == self.attempts:
                    raise
                log.info("Synapse not reachable (%s), retrying in %.1fs", type(exc).__name__, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5)
        raise AssertionError("unreachable")

    async def register(
        self,
        localpart: str,
        password: str,
        *,
        admin: bool = False,
        displayname: str | None = None,
        device_name: str | None = None,
    ) -> Registration:
        """Create an account with the shared secret; returns its first access token and device."""
        if not self.shared_secret:
            raise RuntimeError("registration needs the registration shared secret")
        nonce = (await self.request("GET", "/_synapse/admin/v1/register", auth=False))["nonce"]
        # Synapse's MAC: HMAC-SHA1 over the fields joined by NUL bytes.
        message = b"\x00".join(part.encode() for part in (nonce, localpart, password, "admin" if admin else "notadmin"))
        mac = hmac.new(self.shared_secret.encode(), message, hashlib.sha1).hexdigest()
        body: dict[str, Any] = {
            "nonce": nonce,
            "username": localpart,
            "password": password,
            "admin": admin,
            "mac": mac,
        }
        if displayname is not None:
            body["displayname"] = displayname
        data = await self.request("POST", "/_synapse/admin/v1/register", body, auth=False)
        registration = Registration(UserID(data["user_id"]), data["access_token"], DeviceID(data["device_id"]))
        if device_name is not None:
            await self.request(
                "PUT",
                f"/_matrix/client/v3/devices/{quote(registration.device_id)}",
                {"display_name": device_name},
                token=registration.access_token,
            )
        return registration

    async def user_exists(self, user_id: str) -> bool:
        try:
            await self.request("GET", f"/_synapse/admin/v2/users/{quote(user_id)}")
        except SynapseError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    async def user(self, user_id: str) -> dict[str, Any]:
        return await self.request("GET", f"/_synapse/admin/v2/users/{quote(user_id)}")

    async def login_password(self, user_id: str, password: str, device_id: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": "m.login.password",
            "identifier": {"type": "m.id.user", "user": user_id},
            "password": password,
        }
        if device_id:
            body["device_id"] = device_id
        return await self.request("POST", "/_matrix/client/v3/login", body, auth=False)

    async def force_join(self, room_id: RoomID, user_id: UserID) -> None:
        await self.request("POST", f"/_synapse/admin/v1/join/{quote(room_id)}", {"user_id": user_id})

    async def override_ratelimit(self, user_id: UserID) -> None:
        await self.request(
            "POST",
            f"/_synapse/admin/v1/users/{quote(user_id)}/override_ratelimit",
            {"messages_per_second": 0, "burst_count": 0},
        )

    async def deactivate(self, user_id: UserID, *, erase: bool) -> None:
        await self.request("POST", f"/_synapse/admin/v1/deactivate/{quote(user_id)}", {"erase": erase})

    async def joined_members(self, room_id: RoomID) -> list[str]:
        data = await self.request("GET", f"/_synapse/admin/v1/rooms/{quote(room_id)}/members")
        return list(data.get("members", []))
