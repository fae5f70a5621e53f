"""The staff Space, made anew every ``SPACE_DAYS`` (issue 23; DESIGN.md: every case room is a
child of a staff Space).

A case room is linked into the Space with an ``m.space.child`` state event whose state key is
the room's ID. Taking the link out empties the event's content but keeps the key, in the
Space's state and history, and Synapse cannot delete one state event: only a whole room. So
the Space is rotated: every ``SPACE_DAYS`` a new one is made, the staff rooms and every staff
member who belongs there are put in it, the live case rooms (waiting or claimed) are linked
into it by the access worker as usual, and once nothing live is left to move, the old Space
is deleted and purged, and Synapse forgets what it kept of rooms that no longer exist
(Keerpunt's module, ``forget_rooms``). A purged case room's ID is thus kept at most until the
next rotation after its purge (docs/privacy.md).

Each step is recorded (``system_room``: the next Space while it is made, the old one until it
is purged; ``bot_state``: when the current one was made) and safe to repeat, so a crash
anywhere carries on where it stopped. It runs inside the access worker's round, before the
links, so no link is ever put into a Space that is being retired.
"""

from __future__ import annotations

import asyncio
import logging

from bots.clock import Clock, millis
from bots.db import Stores
from bots.homeserver.admin import SynapseError
from bots.homeserver.ports import Rooms
from bots.ids import RoomID
from bots.matrix.staff_rooms import NEXT_SPACE, OLD_SPACE, SPACE, StaffRooms
from bots.queue.rooms import StaffMatrix

log = logging.getLogger(__name__)

SPACE_DAYS = 7
DAY_MS = 86_400_000
MADE_AT = "space_made_at"  # bot_state: when the current Space was made (ms)
PURGE_WAIT = 60.0


class SpaceRotation:
    def __init__(
        self, stores: Stores, staff_rooms: StaffRooms, admin: Rooms, matrix: StaffMatrix, clock: Clock
    ) -> None:
        self.stores = stores
        self.staff_rooms = staff_rooms
        self.admin = admin
        self.matrix = matrix  # links case rooms into matrix.space
        self.clock = clock

    async def step(self) -> bool:
        """One round; True while a rotation is under way (rooms still to move, or the old
        Space still to purge)."""
        rooms, state = self.stores.system_rooms, self.stores.bot_state
        now = millis(self.clock)
        old = await rooms.get(OLD_SPACE)
        if old is not None:
            if any(link.wanted for link in await self.stores.queue.access.space_to_apply()):
                return True  # live case rooms are still moving to the new Space
            await self._purge(old)
            await rooms.delete(OLD_SPACE)
            log.info("The previous staff Space is purged")
            return False
        made = await state.get(MADE_AT)
        if made is None:
            await state.put(MADE_AT, str(now))  # the first run: the current Space's age starts now
            return False
        if now - int(made) < SPACE_DAYS * DAY_MS and await rooms.get(NEXT_SPACE) is None:
            return False
        await self._rotate(now)
        return True

    async def _rotate(self, now: int) -> None:
        space = await self.staff_rooms.new_space()
        await self.staff_rooms.fill_space(space)
        rooms = self.stores.system_rooms
        current = await rooms.get(SPACE)
        async with self.stores.transaction():  # in this order: a room ID is in one row at a time
            await rooms.delete(NEXT_SPACE)
            await rooms.put(SPACE, space)
            if current is not None and current != space:
                await rooms.put(OLD_SPACE, current)
            await self.stores.queue.access.relink_all()
            await self.stores.bot_state.put(MADE_AT, str(now))
        self.matrix.space = space
        log.info("A new staff Space replaces the old one; the live case rooms move over")

    async def _purge(self, space: RoomID) -> None:
        """Delete and purge the retired Space, then let Synapse forget the rooms that are gone."""
        try:
            delete_id = await self.admin.delete_room(space, purge=True)
        except SynapseError as exc:
            if exc.status != 404:
                raise
        else:
            deadline = self.clock.monotonic() + PURGE_WAIT
            while (status := await self.admin.delete_status(delete_id, space)) != "complete":
                if status == "failed" or self.clock.monotonic() > deadline:
                    raise RuntimeError(f"purging the old staff Space ended as {status!r}; trying again")
                await asyncio.sleep(0.2)
        await self.admin.forget_rooms()
