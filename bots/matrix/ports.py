"""The bot's own Matrix client as the router, the outbox and the concerns use it: a small typed
interface over matrix-nio's ``AsyncClient`` (``BotClient`` is the real one). The sync loop and
start-up use ``BotClient`` itself."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol


class MatrixClient(Protocol):
    @property
    def user_id(self) -> str: ...

    @property
    def rooms(self) -> Mapping[str, Any]:
        """The rooms the client knows after a sync (nio's ``MatrixRoom``: users, encryption)."""

    @property
    def should_query_keys(self) -> bool: ...

    async def keys_query(self) -> Any: ...

    async def joined_members(self, room_id: str) -> Any: ...

    async def room_send(
        self, room_id: str, message_type: str, content: dict[str, Any], tx_id: str | None = None
    ) -> Any: ...

    async def upload(
        self, data_provider: Any, /, *, content_type: str, filename: str, encrypt: bool, filesize: int
    ) -> Any: ...

    def decrypt_event(self, event: Any) -> Any: ...

    @property
    def next_batch(self) -> str | None:
        """The last sync's token (where ``room_messages`` starts paging back from now)."""

    async def room_messages(self, room_id: str, start: str, **kwargs: Any) -> Any:
        """A page of the room's events (nio's ``RoomMessagesResponse``: ``chunk``, ``end``)."""

    def forget(self, rooms: Iterable[str], users: Iterable[str]) -> None:
        """Drop the crypto store's keys of purged rooms and erased users."""
