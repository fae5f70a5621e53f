"""Which case a staff command is about: named by number, else the room's, else the card replied to."""

from __future__ import annotations

from bots.commands.table import Call
from bots.db import Stores
from bots.db.case import Case
from bots.errors import UserError


async def case_of(stores: Stores, call: Call, number: str | None) -> Case:
    """The case named by ``number``, else the case of the room the command was given in, else the
    case whose card in the queue room the command replies to (or is in the thread of)."""
    if number is not None:
        q = await stores.queue.workflow.by_number(number)
        case = await stores.cases.get(q.case_id) if q else None
        if case is None:
            raise UserError("queue.staff.unknown_case", number=number)
        return case
    if call.where.case is not None:
        return call.where.case
    for event_id in (call.context.thread_root, call.context.replying_to):
        case_id = await stores.queue.cards.case_of(event_id) if event_id else None
        case = await stores.cases.get(case_id) if case_id else None
        if case is not None:
            return case
    raise UserError("queue.staff.which_case")
