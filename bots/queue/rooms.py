"""What the queue changes in Synapse besides messages: room access and the staff Space.

All calls are made as the system bot and are idempotent, so the queue's access reconciler can simply
repeat them after a crash: power levels are set to a computed value, an invite of someone
already invited or joined and a kick of someone already gone are accepted, and the Space
link is a state event with a fixed key. Nothing here carries content: kicks have no reason,
Space links only a server name (DESIGN.md rule 5).
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any, Literal

from bots.homeserver.admin import SynapseError
from bots.homeserver.ports import Rooms
from bots.ids import EventID, RoomID, UserID
from bots.matrix.rooms import MODERATOR_LEVEL

log = logging.getLogger(__name__)


class StaffMatrix:
    def __init__(self, admin: Rooms, bot: UserID, server_name: str, space: RoomID) -> None:
        self.admin = admin
        self.bot = bot
        self.server_name = server_name
        self.space = space

    async def give_access(self, room_id: RoomID, counsellor: UserID | None, previous: UserID | None) -> None:
        """Make ``counsellor`` the one moderator of the case room (invited), ``previous`` out."""
        await self._power(room_id, counsellor, previous)
        if previous is not None and previous != counsellor:
            await self._membership(room_id, "kick", previous)
        if counsellor is not None:
            await self._membership(room_id, "invite", counsellor)

    async def _power(self, room_id: RoomID, counsellor: UserID | None, previous: UserID | None) -> None:
        levels = await self.admin.state_event(room_id, "m.room.power_levels")
        users = dict(levels.get("users") or {})
        wanted = {user: level for user, level in users.items() if user != previous or user == self.bot}
        if counsellor is not None:
            wanted[counsellor] = MODERATOR_LEVEL
        if wanted != users:
            await self.admin.put_state(room_id, "m.room.power_levels", "", {**levels, "users": wanted})

    async def _membership(self, room_id: RoomID, action: Literal["invite", "kick"], user: UserID) -> None:
        try:
            await (self.admin.invite if action == "invite" else self.admin.kick)(room_id, user)
        except SynapseError as exc:
            # Already invited/joined (invite) or already gone (kick): the goal is reached.
            if exc.status != 403:
                raise
            log.info("%s of a counsellor was refused (%s); treating it as done", action, exc.errcode)

    async def link(self, room_id: RoomID, linked: bool) -> None:
        """Add the case room to the staff Space, or take it out (empty content removes a link)."""
        via: dict[str, Any] = {"via": [self.server_name]} if linked else {}
        await self.admin.put_state(self.space, "m.space.child", room_id, via)
        parent = {**via, "canonical": True} if linked else {}
        await self.admin.put_state(room_id, "m.space.parent", self.space, parent)

    async def redact(self, room_id: RoomID, event_id: EventID) -> None:
        """Redact an event (no reason), with a transaction ID fixed by the event."""
        txn = "kpr" + hashlib.sha256(event_id.encode()).hexdigest()[:32]
        try:
            await self.admin.redact(room_id, event_id, txn)
        except SynapseError:
            log.exception("Could not redact a note written in a case room")
