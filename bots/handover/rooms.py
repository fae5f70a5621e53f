"""The handover room in Synapse: made once, found again after a crash, each party invited once.

The room carries no content in its state (DESIGN.md rule 5): no name, topic or alias. Its
``m.room.create`` holds only an opaque marker (the handover's random id) so that the bot can
recognise a room it made just before a crash, and ``m.federate`` — true only when an intake
member lives on an allowlisted partner server (DESIGN.md rule 4). Only the bot may invite;
the counsellor moderates; the visitor and the partner's staff are ordinary members.
"""

from __future__ import annotations

import logging
from collections.abc import Set as AbstractSet
from typing import Any

from bots.homeserver.admin import SynapseError
from bots.homeserver.ports import Rooms
from bots.ids import RoomID, UserID
from bots.matrix.ports import MatrixClient
from bots.matrix.rooms import BOT_LEVEL, ENCRYPTION, MODERATOR_LEVEL, case_power_levels

log = logging.getLogger(__name__)

MARKER_KEY = "nl.keerpunt.handover"


class NotAllowed(Exception):
    """An invitee on a server that is neither ours nor in the federation allowlist."""


def server_of(user: str) -> str:
    return user.split(":", 1)[1]


def check_servers(parties: list[UserID], own: str, allowlist: tuple[str, ...]) -> bool:
    """Whether the room must federate; raises NotAllowed for a server outside the allowlist."""
    remote = {server_of(user) for user in parties} - {own}
    for server in remote:
        if server not in allowlist:
            raise NotAllowed(server)
    return bool(remote)


def handover_room_body(
    bot: UserID, handover_id: str, counsellor: UserID, invite: list[UserID], *, federate: bool
) -> dict[str, Any]:
    """The createRoom request of a handover room (everyone invited in the same request)."""
    levels = case_power_levels(bot)
    levels["users"] = {bot: BOT_LEVEL, counsellor: MODERATOR_LEVEL}
    return {
        "preset": "private_chat",
        "visibility": "private",
        "invite": list(invite),
        "creation_content": {"m.federate": federate, MARKER_KEY: handover_id},
        "initial_state": [
            {"type": "m.room.encryption", "state_key": "", "content": dict(ENCRYPTION)},
            # Invited parties read what the bot posts right after making the room (the summary).
            {"type": "m.room.history_visibility", "state_key": "", "content": {"history_visibility": "invited"}},
            {"type": "m.room.guest_access", "state_key": "", "content": {"guest_access": "forbidden"}},
            {"type": "m.room.join_rules", "state_key": "", "content": {"join_rule": "invite"}},
        ],
        "power_level_content_override": levels,
    }


class HandoverMatrix:
    def __init__(self, admin: Rooms, client: MatrixClient) -> None:
        self.admin = admin
        self.client = client

    def sees(self, room_id: RoomID, users: AbstractSet[UserID]) -> bool:
        """Whether the bot's own client has the room with all of ``users`` in it (after a sync),
        so the room key reaches their devices."""
        room = self.client.rooms.get(room_id)
        return room is not None and users <= set(room.users)

    async def create(self, body: dict[str, Any]) -> RoomID:
        return await self.admin.create_room(body)

    async def find(self, handover_id: str, known: AbstractSet[RoomID]) -> RoomID | None:
        """The room made for ``handover_id`` before a crash, among the bot's rooms we don't know."""
        for room_id in await self.admin.joined_rooms():
            if room_id in known:
                continue
            try:
                create = await self.admin.state_event(room_id, "m.room.create")
            except SynapseError:
                continue
            if create.get(MARKER_KEY) == handover_id:
                return room_id
        return None

    async def memberships(self, room_id: RoomID) -> dict[str, str]:
        state = await self.admin.room_state(room_id)
        return {
            str(e["state_key"]): str(e.get("content", {}).get("membership"))
            for e in state
            if e.get("type") == "m.room.member"
        }

    async def invite_missing(self, room_id: RoomID, parties: list[UserID]) -> list[UserID]:
        """Invite each party that has no membership yet (never a second invite); who was invited."""
        members = await self.memberships(room_id)
        invited = []
        for user in parties:
            if user in members:
                continue
            await self.admin.invite(room_id, user)
            invited.append(user)
        return invited

    async def remove(self, room_id: RoomID, users: list[UserID]) -> None:
        """Take users out of the room (a partner who declined); someone already gone is fine."""
        members = await self.memberships(room_id)
        for user in users:
            if members.get(user) not in ("invite", "join"):
                continue
            await self.admin.kick(room_id, user)
