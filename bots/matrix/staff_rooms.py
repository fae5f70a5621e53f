"""Staff rooms owned by the system bot: the staff Space, the rooms the concerns declare (the
queue room, the outreach room), and a staff member's direct room with the bot.

Which rooms there are and which role joins which is the concerns' (``StaffLayout``, from
``bots.declarations``); this module only makes them and adds people. Idempotent: each room
carries a ``nl.keerpunt.room`` state event with its kind, so after a crash between createRoom
and the database write the room is found again instead of being created twice.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bots.db.staff import Role, StaffStore
from bots.db.system_room import SystemRoomStore
from bots.homeserver.admin import SynapseError
from bots.homeserver.ports import Rooms
from bots.ids import RoomID, UserID
from bots.texts import text
from keerpunt.base.config import Config

log = logging.getLogger(__name__)

ROOM_KIND_EVENT = "nl.keerpunt.room"
ENCRYPTION = {"algorithm": "m.megolm.v1.aes-sha2", "rotation_period_msgs": 100, "rotation_period_ms": 604800000}
SPACE = "space"
# A staff Space being made to replace the current one, and the one it replaced until it is
# purged (the Space's rotation: bots/queue/space.py).
NEXT_SPACE = "space next"
OLD_SPACE = "space old"


@dataclass(frozen=True)
class StaffLayout:
    """The staff rooms the concerns declare, and who joins them."""

    # Made at start, each a child of the staff Space, in this order.
    rooms: tuple[str, ...]
    # Each role's rooms; a role with any also joins the Space.
    roles: Mapping[str, tuple[str, ...]]
    # Roles whose members get a direct room with the bot.
    direct: frozenset[str]


def direct_room_kind(user: UserID) -> str:
    """The system-room kind of a staff member's direct room with the bot."""
    return f"direct {user}"


def encryption_state() -> dict[str, Any]:
    return {"type": "m.room.encryption", "state_key": "", "content": dict(ENCRYPTION)}


def staff_power_levels(bot: UserID) -> dict[str, Any]:
    return {
        "users": {bot: 100},
        "users_default": 0,
        "events_default": 0,
        "state_default": 100,
        "invite": 100,
        "kick": 100,
        "ban": 100,
        "redact": 50,
        "events": {"m.reaction": 0, "m.room.redaction": 0},
    }


class StaffRooms:
    def __init__(
        self, config: Config, admin: Rooms, rooms: SystemRoomStore, staff: StaffStore, layout: StaffLayout
    ) -> None:
        self.config = config
        self.admin = admin
        self.rooms = rooms
        self.staff = staff
        self.layout = layout
        self.bot = UserID(config.bot_user_id)

    async def ensure(self) -> dict[str, RoomID]:
        made = {SPACE: await self._ensure_room(SPACE)}
        for kind in self.layout.rooms:
            made[kind] = await self._ensure_room(kind)
        for kind in self.layout.rooms:
            await self._link(made[SPACE], made[kind])
        for member in await self.staff.all():
            await self.add_member(member.user_id, member.role)
        return made

    async def ensure_direct(self, user: UserID) -> RoomID:
        """The staff member's direct room with the bot (encrypted; made once, then reused)."""
        kind = direct_room_kind(user)
        room_id = await self.rooms.get(kind)
        if room_id is None:
            room_id = await self._find_existing(kind)
        if room_id is None:
            room_id = await self._create(kind, direct_to=user)
        await self.rooms.put(kind, room_id)
        if user not in await self.admin.joined_members(room_id):
            await self.admin.force_join(room_id, user)
        return room_id

    async def add_member(self, user_id: UserID, role: Role) -> None:
        if role in self.layout.direct:
            # A staff member's own room with the bot (an outreach worker's: for commands, and
            # for what is only for them, a chat from their invite that went to the queue).
            await self.ensure_direct(user_id)
        joins = self.layout.roles.get(role, ())
        for kind in (SPACE, *joins) if joins else ():
            room_id = await self.rooms.get(kind)
            if room_id is None:
                continue  # the bots create the rooms at start and then add every staff member
            members = await self.admin.joined_members(room_id)
            if user_id not in members:
                await self.admin.force_join(room_id, user_id)
                log.info("Added %s (%s) to the %s room", user_id, role, kind)

    async def new_space(self) -> RoomID:
        """A fresh staff Space, recorded as the next one (made once: a crash after this finds
        it again as ``NEXT_SPACE``)."""
        space = await self.rooms.get(NEXT_SPACE)
        if space is None:
            space = await self._create(SPACE)
            await self.rooms.put(NEXT_SPACE, space)
        return space

    async def fill_space(self, space: RoomID) -> None:
        """The staff rooms made at start as the Space's children, and in it every staff member
        whose role joins rooms (each step safe to repeat)."""
        for kind in self.layout.rooms:
            child = await self.rooms.get(kind)
            if child is not None:
                await self._link(space, child)
        members = set(await self.admin.joined_members(space))
        for member in await self.staff.all():
            if self.layout.roles.get(member.role) and member.user_id not in members:
                await self.admin.force_join(space, member.user_id)

    async def _find_existing(self, kind: str) -> RoomID | None:
        for room_id in await self.admin.joined_rooms():
            try:
                state = await self.admin.state_event(room_id, ROOM_KIND_EVENT)
            except SynapseError as exc:
                if exc.status == 404:
                    continue
                raise
            if state.get("kind") == kind:
                return RoomID(room_id)
        return None

    async def _ensure_room(self, kind: str) -> RoomID:
        room_id = await self.rooms.get(kind)
        if room_id is not None:
            return room_id
        room_id = await self._find_existing(kind)
        if room_id is None:
            room_id = await self._create(kind)
        await self.rooms.put(kind, room_id)
        return room_id

    async def _create(self, kind: str, *, direct_to: UserID | None = None) -> RoomID:
        lang = self.config.languages.default
        creation: dict[str, Any] = {"m.federate": False}
        if kind == "space":
            creation["type"] = "m.space"
        key = "direct" if direct_to is not None else kind
        body: dict[str, Any] = {
            "preset": "private_chat",
            "visibility": "private",
            "name": text(lang, f"rooms.{key}.name"),
            "topic": text(lang, f"rooms.{key}.topic"),
            "creation_content": creation,
            "initial_state": [
                encryption_state(),
                {"type": "m.room.history_visibility", "state_key": "", "content": {"history_visibility": "joined"}},
                {"type": "m.room.guest_access", "state_key": "", "content": {"guest_access": "forbidden"}},
                {"type": ROOM_KIND_EVENT, "state_key": "", "content": {"kind": kind}},
            ],
            "power_level_content_override": staff_power_levels(self.bot),
        }
        if direct_to is not None:
            body["is_direct"] = True
        room_id = await self.admin.create_room(body)
        log.info("Created the %s room", key)
        return room_id

    async def _link(self, space: RoomID, child: RoomID) -> None:
        via = {"via": [self.config.homeserver.server_name]}
        await self.admin.put_state(space, "m.space.child", child, via)
        await self.admin.put_state(child, "m.space.parent", space, {**via, "canonical": True})
