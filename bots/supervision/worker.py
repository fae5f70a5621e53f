"""Makes the chat's room match who reads along: the supervisor invited once the visitor's notice
is out (never before), and out of the room after ``!unwatch``."""

from __future__ import annotations

import logging
from collections.abc import Callable

from bots.concern import Reconciler
from bots.db import Stores
from bots.db.queue.watch import Watch
from bots.homeserver.admin import SynapseError
from bots.homeserver.ports import Rooms
from bots.ids import RoomID

log = logging.getLogger(__name__)


class WatchReconciler(Reconciler):
    name = "supervision"
    title = "Reading along"

    def __init__(self, stores: Stores, admin: Rooms, to_send: Callable[[], None]) -> None:
        super().__init__()
        self.stores = stores
        self.watches = stores.queue.watch
        self.admin = admin
        self.to_send = to_send

    async def step(self) -> bool:
        busy = False
        for watch in await self.watches.to_apply():
            case = await self.stores.cases.get(watch.case_id)
            if case is None or case.room_id is None or case.purged_at is not None:
                await self.watches.applied(watch.case_id, watch.watched_by)
                continue
            try:
                busy = await self._apply(watch, case.room_id) or busy
            except SynapseError as exc:
                if exc.status not in (403, 404):
                    raise
                log.info("A change of who reads along was refused (%s); treating it as done", exc.errcode)
                await self.watches.applied(watch.case_id, watch.watched_by)
        return busy

    async def _apply(self, watch: Watch, room: RoomID) -> bool:
        """True while the visitor's notice is still on its way."""
        if watch.member is not None and watch.member != watch.watched_by:
            await self.admin.kick(room, watch.member)
            await self.watches.applied(watch.case_id, None)
            log.info("A supervisor stopped reading along in a chat")
            if watch.watched_by is None:
                return False
        assert watch.watched_by is not None
        message = await self.stores.outbox.get(watch.notice) if watch.notice else None
        if message is not None and message.state != "sent":
            if message.state == "failed":
                log.error("The visitor could not be told that a colleague reads along; nobody is invited")
                return False
            self.to_send()
            return True
        await self.admin.invite(room, watch.watched_by)
        await self.watches.applied(watch.case_id, watch.watched_by)
        log.info("A supervisor was invited to read along in a chat")
        return False
