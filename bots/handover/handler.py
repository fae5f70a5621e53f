"""Handover events from the sync (the edge): the visitor's answer, and who joined a handover room.

Each event is handled in one transaction with its handled-event record, so a replayed batch
after a restart never answers twice.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mautrix.util.async_db import Database

from bots.clock import Clock, millis
from bots.db import transaction
from bots.db.case import Case
from bots.db.handled_event import HandledEventStore
from bots.db.handover import Handover, HandoverStore
from bots.handover.consent import read_answer
from bots.handover.domain import HandoverDomain
from bots.ids import EventID, UserID


class HandoverHandler:
    def __init__(
        self,
        db: Database,
        *,
        store: HandoverStore,
        domain: HandoverDomain,
        handled: HandledEventStore,
        clock: Clock,
        changed: Callable[[], None],
    ) -> None:
        self.db = db
        self.store = store
        self.domain = domain
        self.handled = handled
        self.clock = clock
        self.changed = changed

    async def consent_answer(self, case: Case, event_type: str, content: dict[str, Any], now: int) -> bool:
        """Inside the visitor handler's transaction: True when the event answered an open question."""
        reply = read_answer(event_type, content)
        if reply is None:
            return False
        asked = await self.store.asked(case.id)
        if asked is None or (reply.handover_id is not None and reply.handover_id != asked.id):
            # A button of a question that is no longer open (answered, or replaced by a
            # newer one): never read as an answer to another question.
            return reply.handover_id is not None
        await self.domain.answer(case, asked, reply.answer, now)
        return True

    async def on_member_joined(
        self, case: Case, handover: Handover, event_id: EventID, user: UserID, display_name: str
    ) -> None:
        """Someone joined a handover room: an intake member of its partner is announced."""
        assert handover.room_id is not None
        if user not in await self.domain.intake(handover.partner_id):
            return
        now = millis(self.clock)
        async with transaction(self.db):
            if not await self.handled.record(event_id, handover.room_id, "handled", now):
                return
            await self.domain.joined(case, handover, user, display_name, now)
        self.changed()

    async def on_visitor_left(self, case: Case, handover: Handover, event_id: EventID) -> None:
        """The visitor left the handover room (or ended the chat, or fled): the others are told."""
        assert handover.room_id is not None
        now = millis(self.clock)
        async with transaction(self.db):
            if not await self.handled.record(event_id, handover.room_id, "handled", now):
                return
            await self.domain.visitor_left(handover, now)
        self.changed()
