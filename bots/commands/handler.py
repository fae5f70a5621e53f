"""Counsellor commands and 👍 reactions (the edge): parse, authorise, run, answer.

Only staff (the ``staff`` table, roles set with ``keerpunt staff add``) may use commands;
anyone else gets ``commands.not_staff``. The event's handled record, what the command
changes and the answer are written in one transaction, so a command is run exactly once.
Answers are notices replying to the command, in the room (and thread) where it was given.
In a case room the visitor reads along: a command that worked is answered by what the
visitor is told (and by the card in the queue room), so only problems get a staff reply.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from mautrix.util.async_db import Database

from bots.clock import Clock, millis
from bots.commands.table import COMMANDS, CommandError, Parsed, is_command, parse
from bots.db import transaction
from bots.db.case import Case, CaseStore
from bots.db.handled_event import HandledEventStore
from bots.db.handover import Handover
from bots.db.outbox import OutboxStore
from bots.db.queue_case import QueueStore
from bots.db.staff import StaffStore
from bots.handover.domain import HandoverDomain
from bots.ids import EventID, RoomID, UserID
from bots.matrix.content import notice_reply
from bots.queue.cards import QueueLine, render_queue
from bots.queue.domain import QueueDomain
from bots.queue.order import Waiting, ordered
from bots.texts import Language, text
from bots.triage import TriageDefinition
from keerpunt.config.model import QueueConfig

log = logging.getLogger(__name__)

THUMBS_UP = "👍"


@dataclass(frozen=True)
class Where:
    """The room a staff event came from: the queue room, a case room (``case``) or a
    handover room (``handover``, with the case it came from as ``case``)."""

    room_id: RoomID
    case: Case | None
    handover: Handover | None = None

    @property
    def case_room(self) -> Case | None:
        """The case, when this is its case room (where the visitor reads along)."""
        return self.case if self.handover is None else None


@dataclass(frozen=True)
class Context:
    """Where in the room: the event itself and the thread or reply it belongs to."""

    event_id: EventID
    thread_root: EventID | None
    replying_to: EventID | None

    @classmethod
    def of(cls, event_id: EventID, content: dict[str, Any]) -> Context:
        relates = content.get("m.relates_to")
        relates = relates if isinstance(relates, dict) else {}
        root = relates.get("event_id") if relates.get("rel_type") == "m.thread" else None
        in_reply = relates.get("m.in_reply_to")
        replying = in_reply.get("event_id") if isinstance(in_reply, dict) else None
        return cls(
            event_id,
            EventID(root) if isinstance(root, str) else None,
            EventID(replying) if isinstance(replying, str) else None,
        )


@dataclass(frozen=True)
class Call:
    """One command being run: where, by whom, with which arguments, at what time."""

    where: Where
    sender: UserID
    context: Context
    values: dict[str, str]
    now: int


Run = Callable[[Call], Awaitable[str | None]]


@dataclass(frozen=True)
class Answer:
    body: str
    reply_to: EventID
    thread_root: EventID | None = None


def help_text(language: Language, outcomes: tuple[str, ...]) -> str:
    """``!help``, generated from the command table."""
    lines = [text(language, "commands.help_header")]
    for command in COMMANDS.values():
        about = text(language, command.help_key, outcomes=", ".join(outcomes))
        lines.append(text(language, "commands.help_line", usage=command.usage, help=about))
    return "\n".join(lines)


class CommandHandler:
    def __init__(
        self,
        db: Database,
        *,
        cases: CaseStore,
        queue: QueueStore,
        staff: StaffStore,
        handled: HandledEventStore,
        outbox: OutboxStore,
        domain: QueueDomain,
        handovers: HandoverDomain,
        definition: TriageDefinition,
        settings: QueueConfig,
        staff_language: Language,
        clock: Clock,
        changed: Callable[[], None],
        redact: Callable[[RoomID, EventID], Awaitable[None]],
    ) -> None:
        self.db = db
        self.cases = cases
        self.queue = queue
        self.staff = staff
        self.handled = handled
        self.outbox = outbox
        self.domain = domain
        self.handovers = handovers
        self.definition = definition
        self.settings = settings
        self.language = staff_language
        self.clock = clock
        self.changed = changed
        self.redact = redact

    async def on_staff_event(
        self, where: Where, event_id: EventID, sender: UserID, event_type: str, content: dict[str, Any]
    ) -> None:
        now = millis(self.clock)
        moved_note = False
        async with transaction(self.db):
            if not await self.handled.record(event_id, where.room_id, "handled", now):
                return
            context = Context.of(event_id, content)
            answer: Answer | None = None
            if event_type == "m.reaction":
                answer = await self._reaction(where, sender, content, now)
            elif event_type == "m.room.message":
                body = content.get("body")
                if isinstance(body, str) and is_command(body):
                    answer, moved_note = await self._command(where, sender, body, context, now)
            if answer is not None:
                reply = notice_reply(answer.body, answer.reply_to, thread_root=answer.thread_root)
                await self.outbox.enqueue(where.room_id, "m.room.message", reply, now)
        self.changed()
        if moved_note:
            await self.redact(where.room_id, event_id)

    async def on_counsellor_left(self, case: Case, event_id: EventID, counsellor: UserID) -> None:
        """The claiming counsellor left (or declined) the chat on their own: back to the queue."""
        assert case.room_id is not None
        now = millis(self.clock)
        async with transaction(self.db):
            if not await self.handled.record(event_id, case.room_id, "handled", now):
                return
            q = await self.queue.get(case.id)
            if q is None or q.stage != "claimed" or q.claimed_by != counsellor:
                return  # removed by the bot (release, transfer), or after the close: nothing to do
            await self.domain.release(case, counsellor, now, walked_out=True)
        self.changed()

    # Commands

    async def _command(
        self, where: Where, sender: UserID, body: str, context: Context, now: int
    ) -> tuple[Answer | None, bool]:
        def answer(reply: str) -> Answer:
            return Answer(reply, context.event_id, context.thread_root)

        role = await self._role(where, sender)
        if role is None:
            return answer(text(self.language, "commands.not_staff")), False
        try:
            parsed = parse(body)
            if role not in parsed.command.roles:
                raise CommandError("commands.not_staff")
            if parsed.command.where == "case" and where.case_room is None:
                raise CommandError("queue.staff.only_in_case_room")
            if parsed.command.where == "handover" and where.handover is None:
                raise CommandError("handover.staff.only_in_handover_room")
            reply = await self._run(parsed, where, sender, context, now)
        except CommandError as exc:
            return answer(text(self.language, exc.key, **exc.values)), False
        moved = parsed.command.name == "note" and where.case is not None
        return (answer(reply) if reply else None), moved

    async def _role(self, where: Where, sender: UserID) -> str | None:
        """Staff by the staff table; in a handover room, its partner's intake staff are partners.

        A partner's intake staff (listed in the directory, or local accounts made for it) act
        as partners only in the handover rooms of their own organisation; anywhere else they
        are nobody.
        """
        if where.handover is not None and sender in await self.handovers.intake(where.handover.partner_id):
            return "partner"
        member = await self.staff.get(sender)
        if member is None or member.role == "partner":
            return None
        return member.role

    @property
    def commands(self) -> dict[str, Run]:
        """One method per command of the table (a test checks they match)."""
        return {
            "claim": self._claim,
            "release": self._release,
            "transfer": self._transfer,
            "close": self._close,
            "note": self._note,
            "queue": self._queue,
            "partners": self._partners,
            "handover": self._handover,
            "handover-status": self._handover_status,
            "accept": self._accept,
            "decline": self._decline,
            "help": self._help,
        }

    async def _run(self, parsed: Parsed, where: Where, sender: UserID, context: Context, now: int) -> str | None:
        """Run a command; the reply for the staff member, or None when the visitor's message says it."""
        return await self.commands[parsed.command.name](Call(where, sender, context, parsed.values, now))

    async def _help(self, call: Call) -> str | None:
        return help_text(self.language, self.settings.outcomes)

    async def _queue(self, call: Call) -> str | None:
        return await self._queue_list(call.now)

    async def _claim(self, call: Call) -> str | None:
        case = await self._case(call.values.get("case"), call.where, call.context)
        await self.domain.claim(case, call.sender, call.now)
        return None if call.where.case else text(self.language, "queue.staff.claimed", number=case.number)

    async def _release(self, call: Call) -> str | None:
        assert call.where.case is not None
        await self.domain.release(call.where.case, call.sender, call.now)
        return None

    async def _transfer(self, call: Call) -> str | None:
        case = await self._case(call.values["case"], call.where, call.context)
        target = UserID(call.values["user"])
        member = await self.staff.get(target)
        if member is None or member.role != "counsellor":
            raise CommandError("queue.staff.not_a_counsellor", user=target)
        await self.domain.transfer(case, call.sender, target, call.now)
        if call.where.case:
            return None  # the visitor is told; the card's thread says it for staff
        return text(self.language, "queue.staff.transfer_done", number=case.number, counsellor=target)

    async def _close(self, call: Call) -> str | None:
        assert call.where.case is not None
        await self.domain.close(call.where.case, call.sender, self._outcome(call.values.get("outcome")), call.now)
        return None

    async def _note(self, call: Call) -> str | None:
        case = await self._case(call.values["case"], call.where, call.context)
        await self.domain.note(case, call.sender, call.values["text"], call.now)
        key = "queue.staff.note_moved" if call.where.case is not None else "queue.staff.note_saved"
        return text(self.language, key, number=case.number)

    async def _partners(self, call: Call) -> str | None:
        region = call.values.get("region")
        if region is None and call.where.case is not None:
            region = (await self.queue.answers(call.where.case.id)).get("region")
            if region in ("unknown", self.definition.skip.id):
                region = None
        return self.handovers.listing(region, call.values.get("kind"), call.now)

    async def _handover(self, call: Call) -> str | None:
        assert call.where.case is not None
        await self.handovers.ask(
            call.where.case, call.sender, call.values["partner"], call.values.get("summary"), call.now
        )
        return None  # the visitor's question says it

    async def _handover_status(self, call: Call) -> str | None:
        case = await self._case(call.values.get("case"), call.where, call.context)
        return await self.handovers.settle(case, call.values["status"], call.sender, call.now)

    async def _accept(self, call: Call) -> str | None:
        assert call.where.handover is not None and call.where.case is not None
        await self.handovers.accept(call.where.case, call.where.handover, call.sender, call.now)
        return None  # the room is told

    async def _decline(self, call: Call) -> str | None:
        assert call.where.handover is not None and call.where.case is not None
        await self.handovers.refuse(
            call.where.case, call.where.handover, call.sender, call.values.get("reason"), call.now
        )
        return None

    def _outcome(self, given: str | None) -> str:
        outcomes = self.settings.outcomes
        listed = ", ".join(outcomes)
        if given is None:
            raise CommandError("queue.staff.outcome_missing", example=outcomes[0], outcomes=listed)
        if given not in outcomes:
            raise CommandError("queue.staff.outcome_unknown", outcome=given, outcomes=listed)
        return given

    async def _case(self, number: str | None, where: Where, context: Context) -> Case:
        """The case named by number, else the case room's, else the card this is a reply to."""
        if number is not None:
            q = await self.queue.by_number(number)
            case = await self.cases.get(q.case_id) if q else None
            if case is None:
                raise CommandError("queue.staff.unknown_case", number=number)
            return case
        if where.case is not None:
            return where.case
        for event_id in (context.thread_root, context.replying_to):
            q = await self.queue.by_card(event_id) if event_id else None
            case = await self.cases.get(q.case_id) if q else None
            if case is not None:
                return case
        raise CommandError("queue.staff.which_case")

    async def _queue_list(self, now: int) -> str:
        waiting = {q.case_id: q for q in await self.queue.in_stage("waiting")}
        order = ordered(
            Waiting(q.case_id, q.urgent, (q.waiting_since or q.greeted_at) / 1000) for q in waiting.values()
        )
        lines = []
        for item in order:
            q = waiting[item.case]
            case = await self.cases.get(item.case)
            assert case is not None
            answers = await self.queue.answers(item.case)
            lines.append(QueueLine(case.number, q.urgent, q.waiting_since or q.greeted_at, answers))
        claimed = len(await self.queue.in_stage("claimed"))
        return render_queue(lines, claimed, self.definition, self.language, now)

    # 👍 on a card

    async def _reaction(self, where: Where, sender: UserID, content: dict[str, Any], now: int) -> Answer | None:
        relates = content.get("m.relates_to")
        if where.case is not None or not isinstance(relates, dict) or relates.get("rel_type") != "m.annotation":
            return None
        key, target = relates.get("key"), relates.get("event_id")
        if not isinstance(key, str) or not key.startswith(THUMBS_UP) or not isinstance(target, str):
            return None
        q = await self.queue.by_card(EventID(target))
        case = await self.cases.get(q.case_id) if q else None
        if case is None:
            return None
        member = await self.staff.get(sender)
        if member is None or member.role not in COMMANDS["claim"].roles:
            return Answer(text(self.language, "commands.not_staff"), EventID(target))
        try:
            await self.domain.claim(case, sender, now)
        except CommandError as exc:
            return Answer(text(self.language, exc.key, **exc.values), EventID(target))
        return None  # the summary in the card's thread mentions the new counsellor
