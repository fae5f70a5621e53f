"""What the bots ask of Synapse once they run, as small typed interfaces (``SynapseAdmin`` is the
real one; the core tests' fake Matrix is another, checked by mypy like any).

Start-up work that needs more (the bot's own account and cross-signing) uses ``SynapseAdmin``
itself; the concerns, the visitors layer and the Matrix layer take these.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from bots.homeserver.admin import Registration
from bots.ids import EventID, RoomID, UserID


class Rooms(Protocol):
    """Rooms as the system bot sees and runs them."""

    async def create_room(self, body: Mapping[str, Any]) -> RoomID: ...

    async def state_event(self, room_id: RoomID, event_type: str, state_key: str = "") -> dict[str, Any]: ...

    async def put_state(self, room_id: RoomID, event_type: str, state_key: str, content: Mapping[str, Any]) -> None: ...

    async def room_state(self, room_id: RoomID) -> list[dict[str, Any]]: ...

    async def invite(self, room_id: RoomID, user_id: UserID) -> None: ...

    async def kick(self, room_id: RoomID, user_id: UserID) -> None: ...

    async def force_join(self, room_id: RoomID, user_id: UserID) -> None: ...

    async def redact(self, room_id: RoomID, event_id: EventID, txn_id: str) -> None: ...

    async def joined_rooms(self) -> list[RoomID]: ...

    async def joined_members(self, room_id: RoomID) -> list[str]: ...

    async def delete_room(self, room_id: RoomID, *, purge: bool = True) -> str: ...

    async def delete_status(self, delete_id: str, room_id: RoomID) -> str:
        """A purge's status; read off the room when Synapse forgot the finished task."""
        ...

    async def forget_rooms(self) -> None: ...


class Accounts(Protocol):
    """Visitor accounts: made, whose a token is, locked for a return, erased."""

    async def request(
        self,
        method: str,
        path: str,
        body: Mapping[str, Any] | None = None,
        *,
        token: str | None = None,
        retry: bool = True,
        label: str | None = None,
    ) -> dict[str, Any]: ...

    async def register(
        self, localpart: str, password: str, *, displayname: str | None = None, device_name: str | None = None
    ) -> Registration: ...

    async def set_display_name(self, user_id: UserID, name: str, *, token: str | None = None) -> None: ...

    async def whoami(self, token: str) -> UserID: ...

    async def deactivate(self, user_id: UserID, *, erase: bool) -> None: ...

    async def forget_user(self, user_id: UserID) -> None: ...

    async def devices(self, user_id: UserID) -> list[dict[str, Any]]: ...

    async def delete_devices(self, user_id: UserID, device_ids: list[str]) -> None: ...

    async def set_password(self, user_id: UserID, password: str) -> None: ...

    async def set_locked(self, user_id: UserID, locked: bool) -> None: ...

    async def dehydrated_device(self, token: str) -> str | None: ...


class Homeserver(Rooms, Accounts, Protocol):
    """Everything the running bots ask of Synapse."""
