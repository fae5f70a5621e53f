"""Handover events from the sync (the edge): the visitor's answer, and who joined or left a
handover room. Everything runs in the router's turn (one transaction with the handled-event
record), so a replayed batch after a restart never answers twice."""

from __future__ import annotations

from bots.db import Stores
from bots.db.handover import Handover
from bots.handover.consent import read_answer
from bots.handover.domain import HandoverDomain
from bots.ids import RoomID, UserID
from bots.turn import Membership, Turn, Where


class HandoverEvents:
    def __init__(self, stores: Stores, domain: HandoverDomain) -> None:
        self.cases = stores.cases
        self.store = stores.handovers
        self.domain = domain

    async def room(self, room_id: RoomID) -> Where | None:
        """A handover room, with the case it came from."""
        handover = await self.store.by_room(room_id)
        if handover is None:
            return None
        case = await self.cases.get(handover.case_id)
        return Where(room_id, "handover", case, handover) if case is not None else None

    async def role(self, where: Where, user: UserID) -> str | None:
        """A partner's intake staff are partners in the handover rooms of their own organisation."""
        handover = where.record_as(Handover)
        if where.kind == "handover" and handover is not None and user in await self.domain.intake(handover.partner_id):
            return "partner"
        return None

    async def consent_answer(self, turn: Turn) -> bool:
        """The visitor's event in their case room: True when it answered an open handover question."""
        case = turn.where.case
        assert case is not None
        reply = read_answer(turn.type, turn.content)
        if reply is None:
            return False
        asked = await self.store.asked(case.id)
        if asked is None or (reply.handover_id is not None and reply.handover_id != asked.id):
            # A button of a question that is no longer open (answered, or replaced by a
            # newer one): never read as an answer to another question.
            return reply.handover_id is not None
        await self.domain.answer(case, asked, reply.answer, turn.now)
        return True

    async def on_member(self, turn: Turn, change: Membership) -> bool:
        """An intake member of the partner joined (the visitor is told who), or the visitor left
        (or ended the chat, or fled): the partner and the counsellor are told."""
        handover, case = turn.where.record_as(Handover), turn.where.case
        if turn.where.kind != "handover" or handover is None or case is None:
            return False
        if change.change == "join" and change.user in await self.domain.intake(handover.partner_id):
            await self.domain.joined(case, handover, change.user, change.display_name, turn.now)
            return True
        if change.change == "leave" and change.user == case.visitor:
            await self.domain.visitor_left(handover, turn.now)
            return True
        return False
