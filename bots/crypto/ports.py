"""Device trust as the router, the outbox and the concerns ask about it (``TrustPolicy`` is the
real one; the sync loop also tells it what changed). ``client`` is the bot's own Matrix client,
whose crypto store the policy reads and marks."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from bots.ids import UserID


class Trust(Protocol):
    async def sent_by_trusted_device(self, client: Any, room_id: str, event: Any) -> bool:
        """Whether the event's sending device is cross-signed by its owner (DESIGN.md rule 3)."""

    def was_sent_by_trusted_device(self, client: Any, room_id: str, event: Any) -> bool:
        """The same for an event read again later, when its device may be gone (signed out):
        the device the policy marked verified in the client's store while it existed."""

    async def all_devices_cross_signed(self, user: UserID) -> bool: ...

    async def cross_signed_devices(self, user: UserID) -> set[str]: ...

    async def apply(self, client: Any, users: Iterable[str]) -> None:
        """Mark the devices of ``users`` in the client's store as the policy decides."""

    def settling(self, users: Iterable[str]) -> bool:
        """Whether a send to these users should wait for a device about to be signed."""

    async def expect_new_device(self, user: UserID) -> None: ...
