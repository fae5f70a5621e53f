"""The handover's staff side: ``!partners``, ``!handover`` and ``!handover-status`` for counsellors,
``!accept`` and ``!decline`` for a partner's intake staff, in their own handover room. The
rules are the domain's; every command runs in the router's turn."""

from __future__ import annotations

from bots.commands.cases import case_of
from bots.commands.table import Call, Command, args
from bots.db import Stores
from bots.db.handover import Handover
from bots.handover.domain import HandoverDomain
from bots.triage import TriageDefinition

PARTNER = frozenset({"partner"})


class HandoverCommands:
    def __init__(self, stores: Stores, domain: HandoverDomain, definition: TriageDefinition) -> None:
        self.stores = stores
        self.domain = domain
        self.definition = definition

    @property
    def commands(self) -> tuple[Command, ...]:
        return (
            Command("partners", args("region:word? kind:word?"), "any", self.partners),
            Command("handover", args("partner:word summary:text?"), "case", self.handover),
            Command("handover-status", args("status:word case:case?"), "any", self.status),
            Command("accept", args(""), "handover", self.accept, PARTNER),
            Command("decline", args("reason:text?"), "handover", self.decline, PARTNER),
        )

    async def partners(self, call: Call) -> str | None:
        region = call.values.get("region")
        if region is None and call.where.case is not None:
            region = (await self.stores.queue.triage.answers(call.where.case.id)).get("region")
            if region in ("unknown", self.definition.skip.id):
                region = None
        return self.domain.listing(region, call.values.get("kind"), call.now)

    async def handover(self, call: Call) -> str | None:
        await self.domain.ask(call.case, call.sender, call.values["partner"], call.values.get("summary"), call.now)
        return None  # the visitor's question says it

    async def status(self, call: Call) -> str | None:
        case = await case_of(self.stores, call, call.values.get("case"))
        return await self.domain.settle(case, call.values["status"], call.sender, call.now)

    async def accept(self, call: Call) -> str | None:
        await self.domain.accept(call.case, self._handover(call), call.sender, call.now)
        return None  # the room is told

    async def decline(self, call: Call) -> str | None:
        await self.domain.refuse(call.case, self._handover(call), call.sender, call.values.get("reason"), call.now)
        return None

    @staticmethod
    def _handover(call: Call) -> Handover:
        handover = call.where.record_as(Handover)
        if handover is None:  # the command table lets these run in handover rooms only
            raise LookupError("a handover command ran outside a handover room")
        return handover
