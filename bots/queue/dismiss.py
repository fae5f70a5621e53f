"""``!dismiss <case>``: a counsellor sends an abusive or automated chat away (SECURITY.md 39).

The case closes as ``dismissed`` (a close reason the statistics count) from whatever stage it
is in: in the triage, waiting, or held by the counsellor who dismisses it (someone else's
chat is theirs to dismiss). The visitor reads the same neutral closing text as any closed
chat, nothing that says why. For 24 hours new starts from the case's network must solve the
hard proof of work: never a block, since a victim may share that network. The network is
known only as a hash under a daily key in memory (``bots.networks``); nothing about it is
written, and a case started before the last restart is dismissed without it (the answer says
so).
"""

from __future__ import annotations

from bots.commands.cases import case_of
from bots.commands.table import Call, Command, args
from bots.db import Stores
from bots.db.case import Case
from bots.errors import UserError
from bots.ids import UserID
from bots.matrix.content import staff_text, visitor_message
from bots.networks import NetworkMemory
from bots.texts import Language, as_language, text
from bots.visitors.closing import close_case
from keerpunt.base.config import Config

COUNSELLORS = frozenset({"counsellor"})
DISMISSED = "dismissed"


class Dismissal:
    def __init__(self, stores: Stores, networks: NetworkMemory, config: Config) -> None:
        self.stores = stores
        self.workflow = stores.queue.workflow
        self.networks = networks
        self.language: Language = config.languages.default
        self.case_room_days = config.retention.case_room_days

    @property
    def commands(self) -> tuple[Command, ...]:
        # Dutch alias as the shift's commands have (!pauze, !verder).
        return (Command("dismiss", args("case:case?"), "any", self.dismiss, COUNSELLORS, aliases=("wegsturen",)),)

    async def dismiss(self, call: Call) -> str | None:
        case = await case_of(self.stores, call, call.values.get("case"))
        slowed = await self.close(case, call.sender, call.now)
        key = "queue.staff.dismissed" if slowed else "queue.staff.dismissed_unknown_network"
        # Typed in the chat itself, the answer goes under the card (bots.commands.dispatch).
        return text(self.language, key, number=case.number)

    async def close(self, case: Case, counsellor: UserID, now: int) -> bool:
        """Close ``case`` as dismissed; True when its network now needs the hard challenge."""
        q = await self.workflow.get(case.id)
        if q is None or q.stage == "closed" or case.state != "open":
            raise UserError("queue.staff.closed_case", number=case.number)
        if q.stage == "claimed" and q.claimed_by != counsellor:
            raise UserError("queue.staff.not_yours", number=case.number)
        closed = await self.workflow.dismiss(case.id, q.stage, q.claimed_by, now)
        if closed is None:  # it changed hands or closed in the meantime
            raise UserError("queue.staff.not_yours", number=case.number)
        await self.stores.case_log.add(case.id, DISMISSED, now, counsellor)
        note = text(self.language, "queue.staff.dismissed_card", counsellor=counsellor, number=case.number)
        await self.stores.posts.add(case.id, "thread", staff_text(note), now)
        if closed.departure is None and case.room_id is not None:
            body = text(as_language(case.language), "queue.visitor.closed_dismissed")
            # The kind of any closed chat: the widget closes alike and cannot tell why.
            content = visitor_message(body, "queue.visitor.closed")
            await self.stores.outbox.enqueue(case.room_id, "m.room.message", content, now)
        await close_case(self.stores, case.id, DISMISSED, now, self.case_room_days)
        return self.networks.dismiss(case.id)
