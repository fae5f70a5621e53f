"""Visitor accounts through Keerpunt's application service (keerpunt/synapse_config.py).

Registering with ``m.login.application_service`` stores no password, so Synapse hashes none:
bcrypt was the largest single cost of a session start. The service's token only works for the
exclusive ``@visitor-…`` namespace. Three calls, all as ``SynapseAdmin.request`` with that token:

- ``register``: a new account; with ``login=False`` (``inhibit_login``) no device and no token
  exist yet (a ready session's account); otherwise its first device and token.
- ``login``: a new device and token for an existing visitor account (``m.login.application_
  service``) — the device a ready session hands to the browser, which nobody had before.
- ``set_display_name``: the neutral, language-dependent name (Synapse gives the localpart at
  registration), set as the visitor before anyone sees the account in a room.
- ``join``: the visitor joins their (ready) case room, acting as the visitor and without a
  device: the browser that gets the session later finds itself in the room (issue 28).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from bots.homeserver.admin import Registration
from bots.homeserver.ports import Accounts
from bots.ids import DeviceID, RoomID, UserID

TYPE = "m.login.application_service"


class VisitorAppservice:
    def __init__(self, admin: Accounts, token: str) -> None:
        self.admin = admin
        self.token = token

    async def register(self, localpart: str, *, device_name: str | None = None, login: bool = True) -> Registration:
        """A new visitor account; ``login=False`` makes no device (the token is empty then)."""
        body: dict[str, Any] = {"type": TYPE, "username": localpart, "inhibit_login": not login}
        if login and device_name is not None:
            body["initial_device_display_name"] = device_name
        # Not retried: a lost answer may hide a created account (the caller repairs).
        data = await self.admin.request(
            "POST", "/_matrix/client/v3/register", body, token=self.token, retry=False, label="register (appservice)"
        )
        return Registration(UserID(data["user_id"]), data.get("access_token", ""), DeviceID(data.get("device_id", "")))

    async def login(self, user_id: UserID, *, device_name: str | None = None) -> Registration:
        """A new device of ``user_id`` and its token (one login: not retried, it would make two)."""
        body: dict[str, Any] = {"type": TYPE, "identifier": {"type": "m.id.user", "user": user_id}}
        if device_name is not None:
            body["initial_device_display_name"] = device_name
        data = await self.admin.request(
            "POST", "/_matrix/client/v3/login", body, token=self.token, retry=False, label="login (appservice)"
        )
        return Registration(UserID(data["user_id"]), data["access_token"], DeviceID(data["device_id"]))

    async def set_display_name(self, user_id: UserID, name: str) -> None:
        """Set the visitor's display name, acting as the visitor (``?user_id=``)."""
        await self.admin.request(
            "PUT",
            f"/_matrix/client/v3/profile/{quote(user_id)}/displayname?user_id={quote(user_id)}",
            {"displayname": name},
            token=self.token,
            label="displayname (appservice)",
        )

    async def join(self, user_id: UserID, room_id: RoomID) -> None:
        """Join ``room_id`` as ``user_id`` (``?user_id=``); a repeated join changes nothing."""
        await self.admin.request(
            "POST",
            f"/_matrix/client/v3/join/{quote(room_id)}?user_id={quote(user_id)}",
            {},
            token=self.token,
            label="join (appservice)",
        )
