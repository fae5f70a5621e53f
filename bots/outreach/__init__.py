"""Proactive outreach (pillar 2): invites that open a chat with the worker who reached out,
the workers' duty switch, and approaches made elsewhere, counted (DESIGN.md "Outreach")."""

from __future__ import annotations

import asyncio
from typing import ClassVar
from zoneinfo import ZoneInfo

from bots.clock import millis
from bots.concern import Concern, Parts, Periodic
from bots.declarations import Declared, Role, RoomKind
from bots.ids import RoomID
from bots.outreach.commands import OutreachCommands
from bots.outreach.domain import OutreachDomain
from bots.outreach.links import portal_targets
from bots.triage import TriageDefinition
from bots.turn import Where
from bots.visitors.invites import InviteKeyer, invite_key
from keerpunt.base.config import Config

EXPIRY_CHECK_SECONDS = 300.0


class Outreach:
    # The outreach room, made at start, and each worker's direct room with the bot: staff only.
    declares: ClassVar[Declared] = Declared(
        rooms=(RoomKind("outreach", staff_only=True, made_at_start=True), RoomKind("direct", staff_only=True)),
        roles=(Role("outreach", rooms=("outreach",), direct_room=True),),
    )

    def __init__(self, config: Config, definition: TriageDefinition) -> None:
        self.config = config
        self.targets = portal_targets(config)
        self.keyer = InviteKeyer(invite_key(config))

    async def build(self, parts: Parts) -> Concern:
        stores = parts.stores
        zone = ZoneInfo(self.config.hours.timezone)
        domain = OutreachDomain(
            stores,
            self.keyer,
            self.config.outreach,
            campaigns=self.targets.campaigns,
            articles=frozenset(self.targets.articles),
            zone=zone,
        )
        commands = OutreachCommands(stores, domain, self.config, self.targets, parts.staff_rooms, zone)
        outreach_room = parts.rooms["outreach"]

        async def outreach_rooms(room_id: RoomID) -> Where | None:
            if room_id == outreach_room:
                return Where(room_id, "outreach")
            kind = await stores.system_rooms.kind_of(room_id)
            return Where(room_id, "direct") if kind is not None and kind.startswith("direct ") else None

        async def expire() -> None:
            # An invite past its time is deleted, not kept: nothing is left of it.
            await domain.drop_expired(millis(parts.clock))
            await asyncio.sleep(EXPIRY_CHECK_SECONDS)

        return Concern(
            "outreach",
            rooms=(outreach_rooms,),
            commands=commands.commands,
            workers=(Periodic("outreach invites", expire),),
        )
