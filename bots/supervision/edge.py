"""Reading along at the edge: ``!watch <case>`` and ``!unwatch [case]``, a whisper in the card's
thread, and a supervisor leaving the chat's room on their own."""

from __future__ import annotations

from bots.commands.cases import case_of
from bots.commands.table import Call, Command, Context, args, is_command
from bots.db import Stores
from bots.errors import UserError
from bots.supervision.domain import Supervising
from bots.texts import Language, text
from bots.turn import Membership, Turn

COUNSELLORS = frozenset({"counsellor"})


class SupervisionEdge:
    def __init__(self, stores: Stores, domain: Supervising, language: Language) -> None:
        self.stores = stores
        self.domain = domain
        self.language = language

    @property
    def commands(self) -> tuple[Command, ...]:
        return (
            Command("watch", args("case:case"), "staff", self.watch, COUNSELLORS),
            Command("unwatch", args("case:case?"), "any", self.unwatch, COUNSELLORS),
        )

    async def watch(self, call: Call) -> str | None:
        case = await case_of(self.stores, call, call.values["case"])
        await self.domain.watch(case, call.sender, call.now)
        return text(self.language, "supervision.watching", number=case.number)

    async def unwatch(self, call: Call) -> str | None:
        case = await case_of(self.stores, call, call.values.get("case"))
        await self.domain.may_supervise(call.sender)
        if not await self.domain.stop(case, call.sender, call.now):
            raise UserError("supervision.not_watching", number=case.number)
        return text(self.language, "supervision.stopped", number=case.number)

    async def whisper(self, turn: Turn) -> None:
        """A message in a card's thread by the one who reads along in that chat."""
        body = turn.body
        if turn.where.kind != "queue" or body is None or is_command(body):
            return
        root = Context.of(turn.event_id, turn.content).thread_root
        case_id = await self.stores.queue.cards.case_of(root) if root else None
        watch = await self.stores.queue.watch.get(case_id) if case_id else None
        if watch is None or watch.watched_by != turn.sender:
            return
        case = await self.stores.cases.get(watch.case_id)
        assert case is not None
        await self.domain.whisper(case, turn.sender, turn.now)

    async def on_member(self, turn: Turn, change: Membership) -> bool:
        """The one reading along left the chat's room on their own: the visitor is told."""
        case = turn.where.case_room
        if case is None or change.change != "leave":
            return False
        watch = await self.stores.queue.watch.get(case.id)
        if watch is None or watch.watched_by != change.user:
            return False  # removed by the bot after !unwatch, or never reading along
        return await self.domain.stop(case, change.user, turn.now, left=True)
