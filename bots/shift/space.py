"""The staff Space's topic says how many counsellors are available, busy or on a break (counts
only: the topic is a state event kept in the clear). Set when it changed; idempotent."""

from __future__ import annotations

import logging

from bots.concern import Reconciler
from bots.counsellors.roster import Roster
from bots.counsellors.views import space_topic
from bots.homeserver.admin import SynapseError
from bots.homeserver.ports import Rooms
from bots.ids import RoomID
from bots.texts import Language

log = logging.getLogger(__name__)


class SpaceBoard(Reconciler):
    name = "shift board"
    title = "The staff Space's topic"
    idle = 30.0

    def __init__(self, roster: Roster, admin: Rooms, space: RoomID, language: Language) -> None:
        super().__init__()
        self.roster = roster
        self.admin = admin
        self.space = space
        self.language = language
        self._shown: str | None = None

    async def step(self) -> bool:
        topic = space_topic(await self.roster.loads(), self.language)
        if topic == self._shown:
            return False
        if self._shown is None:
            try:
                current = await self.admin.state_event(self.space, "m.room.topic")
            except SynapseError as exc:
                if exc.status != 404:
                    raise
                current = {}
            if current.get("topic") == topic:
                self._shown = topic
                return False
        await self.admin.put_state(self.space, "m.room.topic", "", {"topic": topic})
        self._shown = topic
        log.info("The staff Space shows who is available now")
        return False
