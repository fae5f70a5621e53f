"""The few Synapse admin and client calls Keerpunt makes outside the bots' Matrix client.

Account creation goes through shared-secret registration (HMAC over a nonce), which returns
an access token and a device, so nobody needs /login. Idempotent calls are retried with
backoff on connection errors and 5xx/429 answers; calls that create something
(``retry=False``) are tried once and the caller repairs. Every call is timed under a short
label in :data:`bots.timing.TIMINGS`.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import aiohttp

from bots.ids import DeviceID, EventID, RoomID, UserID
from bots.timing import TIMINGS

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


def call_label(method: str, path: str) -> str:
    """A short, ID-free name for a call: ``PUT /_matrix/client/v3/rooms/*/send/*/*``."""
    parts = []
    for part in path.split("?", 1)[0].split("/"):
        parts.append("*" if part[:1] in "!@$#%" or "%" in part else part)
    return f"{method} {'/'.join(parts)}"


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
        retry: bool = True,
        label: str | None = None,
    ) -> dict[str, Any]:
        headers = {}
        bearer = token or self.access_token
        if auth and bearer:
            headers["Authorization"] = f"Bearer {bearer}"
        name = label or call_label(method, path)
        attempts = self.attempts if retry else 1
        delay = 0.2
        for attempt in range(1, attempts + 1):
            started = time.perf_counter()
            try:
                async with self.session.request(method, self.base_url + path, json=body, headers=headers) as resp:
                    data = await resp.json(content_type=None) if resp.content_length != 0 else {}
                    TIMINGS.record(name, time.perf_counter() - started)
                    if resp.status < 400:
                        return data or {}
                    if resp.status in RETRY_STATUSES and attempt < attempts:
                        retry_ms = (data or {}).get("retry_after_ms")
                        await asyncio.sleep(min(retry_ms / 1000, 10) if retry_ms else delay)
                        delay = min(delay * 2, 5)
                        continue
                    data = data or {}
                    raise SynapseError(resp.status, data.get("errcode", "?"), data.get("error", ""))
            except (aiohttp.ClientConnectionError, TimeoutError) as exc:
                if attempt == attempts:
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
        nonce = (await self.request("GET", "/_synapse/admin/v1/register", auth=False, label="register nonce"))["nonce"]
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
        if device_name is not None:
            # Not part of the MAC; Synapse passes it on to the device it creates.
            body["initial_device_display_name"] = device_name
        # Not retried: the nonce is single-use, and a lost answer may hide a created account.
        data = await self.request(
            "POST", "/_synapse/admin/v1/register", body, auth=False, retry=False, label="register"
        )
        return Registration(UserID(data["user_id"]), data["access_token"], DeviceID(data["device_id"]))

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

    async def create_room(self, body: Mapping[str, Any]) -> RoomID:
        """createRoom as the token's user. Tried once: a retry could create a second room."""
        data = await self.request("POST", "/_matrix/client/v3/createRoom", body, retry=False, label="createRoom")
        return RoomID(data["room_id"])

    async def whoami(self, token: str) -> UserID:
        data = await self.request("GET", "/_matrix/client/v3/account/whoami", token=token, label="whoami")
        return UserID(data["user_id"])

    async def delete_room(self, room_id: RoomID, *, purge: bool = True) -> str:
        """Start Synapse's background shutdown-and-purge of a room; returns the delete ID."""
        data = await self.request(
            "DELETE", f"/_synapse/admin/v2/rooms/{quote(room_id)}", {"purge": purge, "block": False}
        )
        return str(data["delete_id"])

    async def delete_status(self, delete_id: str, room_id: RoomID) -> str:
        """The status of a purge ``delete_room`` started: scheduled, active, complete or failed.

        Synapse may forget a finished purge before it is read: Keerpunt's module deletes the
        finished tasks of rooms that are gone whenever a visitor is forgotten, which another
        purge can do at the same moment. The status is then read off the room: gone is
        complete; a room that still exists with a forgotten task is an error.
        """
        try:
            data = await self.request("GET", f"/_synapse/admin/v2/rooms/delete_status/{quote(delete_id)}")
        except SynapseError as exc:
            if exc.status != 404 or await self.room_exists(room_id):
                raise
            return "complete"
        if data.get("status") == "failed":
            log.warning("Synapse could not delete a room: %s", data.get("error", "no reason given"))
        return str(data.get("status", ""))

    async def room_exists(self, room_id: RoomID) -> bool:
        try:
            await self.request("GET", f"/_synapse/admin/v1/rooms/{quote(room_id)}")
        except SynapseError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    async def room_state(self, room_id: RoomID) -> list[dict[str, Any]]:
        data = await self.request("GET", f"/_synapse/admin/v1/rooms/{quote(room_id)}/state")
        return list(data.get("state", []))

    async def joined_rooms(self) -> list[RoomID]:
        """The rooms the token's user is joined to."""
        data = await self.request("GET", "/_matrix/client/v3/joined_rooms")
        return [RoomID(room_id) for room_id in data.get("joined_rooms", [])]

    async def set_display_name(self, user_id: UserID, name: str, *, token: str | None = None) -> None:
        await self.request(
            "PUT",
            f"/_matrix/client/v3/profile/{quote(user_id)}/displayname",
            {"displayname": name},
            token=token,
            label="displayname",
        )

    # Room calls made as the token's user (the system bot), with typed arguments, so no code
    # outside this module builds a client-API path.

    @staticmethod
    def _room(room_id: RoomID) -> str:
        return f"/_matrix/client/v3/rooms/{quote(room_id)}"

    async def state_event(self, room_id: RoomID, event_type: str, state_key: str = "") -> dict[str, Any]:
        """The content of a state event; SynapseError 404 when there is none."""
        return await self.request("GET", f"{self._room(room_id)}/state/{event_type}/{quote(state_key)}")

    async def put_state(self, room_id: RoomID, event_type: str, state_key: str, content: Mapping[str, Any]) -> None:
        """Set a state event (idempotent: the same content again changes nothing)."""
        await self.request("PUT", f"{self._room(room_id)}/state/{event_type}/{quote(state_key)}", content)

    async def invite(self, room_id: RoomID, user_id: UserID) -> None:
        await self.request("POST", f"{self._room(room_id)}/invite", {"user_id": user_id})

    async def kick(self, room_id: RoomID, user_id: UserID) -> None:
        """Take someone out of the room, with no reason (a reason would be unencrypted content)."""
        await self.request("POST", f"{self._room(room_id)}/kick", {"user_id": user_id})

    async def redact(self, room_id: RoomID, event_id: EventID, txn_id: str) -> None:
        """Redact an event, with no reason; the transaction ID makes a retry one redaction."""
        await self.request("PUT", f"{self._room(room_id)}/redact/{quote(event_id)}/{quote(txn_id)}", {})

    async def forget_user(self, user_id: UserID) -> None:
        """Delete a deactivated visitor's IP and device rows in Synapse (Keerpunt's module)."""
        await self.request("POST", "/_synapse/client/keerpunt/v1/forget_user", {"user_id": user_id})

    async def forget_rooms(self) -> None:
        """Delete what Synapse keeps of rooms that no longer exist (Keerpunt's module): after a
        retired staff Space was purged."""
        await self.request("POST", "/_synapse/client/keerpunt/v1/forget_rooms", {})

    async def devices(self, user_id: UserID) -> list[dict[str, Any]]:
        data = await self.request("GET", f"/_synapse/admin/v2/users/{quote(user_id)}/devices")
        return list(data.get("devices", []))

    async def whois(self, user_id: UserID) -> dict[str, Any]:
        return await self.request("GET", f"/_synapse/admin/v1/whois/{quote(user_id)}")

    # The return code (docs/return-code.md)

    async def set_password(self, user_id: UserID, password: str) -> None:
        """Set a visitor's password without signing anyone out: Synapse's default
        (``logout_devices: true``) would also delete the dehydrated device."""
        await self.request(
            "POST",
            f"/_synapse/admin/v1/reset_password/{quote(user_id)}",
            {"new_password": password, "logout_devices": False},
            label="reset_password",
        )

    async def set_locked(self, user_id: UserID, locked: bool) -> None:
        """Lock (login and every token answer 401 ``M_USER_LOCKED``) or unlock an account.
        Unlike deactivation, a lock keeps the key backup, secret storage and devices."""
        await self.request("PUT", f"/_synapse/admin/v2/users/{quote(user_id)}", {"locked": locked})

    async def delete_devices(self, user_id: UserID, device_ids: list[str]) -> None:
        if device_ids:
            await self.request(
                "POST", f"/_synapse/admin/v2/users/{quote(user_id)}/delete_devices", {"devices": device_ids}
            )

    async def dehydrated_device(self, token: str) -> str | None:
        """The device ID of the token's user's dehydrated device (MSC3814), or None."""
        try:
            data = await self.request(
                "GET",
                "/_matrix/client/unstable/org.matrix.msc3814.v1/dehydrated_device",
                token=token,
                label="dehydrated_device",
            )
        except SynapseError as exc:
            if exc.status in (404, 400):  # none, or MSC3814 off
                return None
            raise
        device = data.get("device_id")
        return str(device) if device else None
