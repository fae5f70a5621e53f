"""The queue's staff side: its commands, the 👍 on a card, and a counsellor walking out.

Every method runs in the router's turn (one transaction with the handled-event record); the
rules are the domain's, which raises ``UserError`` before it writes anything.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bots.clock import Clock, millis
from bots.commands.cases import case_of
from bots.commands.dispatch import reply
from bots.commands.table import Call, Command, Context, args
from bots.counsellors.availability import refusal
from bots.counsellors.counting import count_action
from bots.counsellors.views import roster_lines
from bots.crypto.ports import Trust
from bots.db import Stores
from bots.db.queue.workflow import CLAIMABLE
from bots.errors import UserError
from bots.ids import EventID, RoomID, UserID
from bots.queue.cards import QueueLine, render_queue
from bots.queue.domain import QueueDomain
from bots.queue.order import Waiting, ordered
from bots.queue.wrapup import WrapUp, parse_wrap_up
from bots.texts import Language, text
from bots.turn import Membership, Turn
from keerpunt.base.config import Config

THUMBS_UP = "👍"
CLAIM_ROLES = frozenset({"counsellor"})


class StaffSide:
    def __init__(
        self,
        stores: Stores,
        domain: QueueDomain,
        config: Config,
        redact: Callable[[RoomID, EventID], Awaitable[None]],
        trust: Trust,
        queue_room: RoomID,
        clock: Clock,
    ) -> None:
        self.stores = stores
        self.cases = stores.cases
        self.workflow = stores.queue.workflow
        self.triage = stores.queue.triage
        self.cards = stores.queue.cards
        self.domain = domain
        self.definition = domain.definition
        self.outcomes = config.queue.outcomes
        self.wrap_up = config.queue.wrap_up
        self.language: Language = config.languages.default
        self.redact = redact
        self.trust = trust
        self.queue_room = queue_room
        self.clock = clock

    @property
    def commands(self) -> tuple[Command, ...]:
        return (
            Command("claim", args("case:case?"), "any", self.claim, CLAIM_ROLES),
            Command("next", args(""), "staff", self.next_case, CLAIM_ROLES),
            Command("release", args(""), "case", self.release),
            Command("transfer", args("case:case user:user"), "any", self.transfer),
            Command(
                "close",
                args("outcome:word? wrapup:text?"),
                "case",
                self.close,
                help_values={"outcomes": self._listed, **self.domain.wrap_up_lists},
            ),
            Command(
                "wrapup",
                args("case:case? words:text"),
                "any",
                self.record_wrap_up,
                CLAIM_ROLES,
                help_values=self.domain.wrap_up_lists,
            ),
            Command("note", args("case:case text:text"), "any", self.note),
            Command("queue", args(""), "staff", self.show_queue),
        )

    @property
    def _listed(self) -> str:
        return ", ".join(self.outcomes)

    # Commands

    async def claim(self, call: Call) -> str | None:
        case = await case_of(self.stores, call, call.values.get("case"))
        await self.domain.claim(case, call.sender, call.now)
        return None if call.where.case else text(self.language, "queue.staff.claimed", number=case.number)

    async def next_case(self, call: Call) -> str | None:
        """The most urgent, then longest-waiting case this counsellor may take."""
        refused = refusal(await self.domain.roster.load_of(call.sender), None)
        if refused is not None:
            raise refused
        waiting = await self.workflow.in_stage(*CLAIMABLE)
        for item in ordered(Waiting(q.case_id, q.urgent, q.since / 1000, q.stage == "waiting_async") for q in waiting):
            case = await self.cases.get(item.case)
            assert case is not None
            await self.domain.claim(case, call.sender, call.now)
            await count_action(self.stores, self.domain.zone, call.now, "next")
            return text(self.language, "queue.staff.claimed", number=case.number)
        raise UserError("queue.staff.nothing_waiting")

    async def release(self, call: Call) -> str | None:
        await self.domain.release(call.case, call.sender, call.now)
        return None

    async def transfer(self, call: Call) -> str | None:
        case = await case_of(self.stores, call, call.values["case"])
        target = UserID(call.values["user"])
        member = await self.stores.staff.get(target)
        if member is None or member.role != "counsellor":
            raise UserError("queue.staff.not_a_counsellor", user=target)
        await self.domain.transfer(case, call.sender, target, call.now)
        if call.where.case:
            return None  # the visitor is told; the card's thread says it for staff
        return text(self.language, "queue.staff.transfer_done", number=case.number, counsellor=target)

    async def close(self, call: Call) -> str | None:
        outcome = self._outcome(call.values.get("outcome"))
        words = call.values.get("wrapup")
        wrap_up = parse_wrap_up(words, self.wrap_up) if words is not None else None
        await self.domain.close(call.case, call.sender, outcome, call.now, wrap_up)
        return None

    async def record_wrap_up(self, call: Call) -> str | None:
        """The wrap-up of a chat closed without one, by the counsellor who closed it (once)."""
        case = await case_of(self.stores, call, call.values.get("case"))
        wrap_up: WrapUp = parse_wrap_up(call.values["words"], self.wrap_up)
        q = await self.workflow.get(case.id)
        if q is None or q.stage != "closed" or q.outcome is None:
            raise UserError("queue.staff.wrap_up_not_closed", number=case.number)
        if q.claimed_by != call.sender:
            raise UserError("queue.staff.not_yours", number=case.number)
        if any(event.kind == "wrap_up" for event in await self.stores.case_log.of_case(case.id)):
            raise UserError("queue.staff.wrap_up_given", number=case.number)
        await self.stores.case_log.add(case.id, "wrap_up", call.now, call.sender, wrap_up.detail)
        await count_action(self.stores, self.domain.zone, call.now, "wrapup")
        return text(self.language, "queue.staff.wrap_up_saved", number=case.number)

    async def note(self, call: Call) -> str | None:
        case = await case_of(self.stores, call, call.values["case"])
        await self.domain.note(case, call.sender, call.values["text"], call.now)
        if call.where.case is None:
            await self.stores.traces.add(case.id, call.where.room_id, call.turn.event_id)
            return text(self.language, "queue.staff.note_saved", number=case.number)
        # Typed where the visitor (or a partner) reads along: it moves to the card's thread
        # and is taken out of this room once that is committed.
        room_id, event_id = call.where.room_id, call.turn.event_id
        call.turn.after_commit(lambda: self.redact(room_id, event_id))
        return text(self.language, "queue.staff.note_moved", number=case.number)

    async def show_queue(self, call: Call) -> str | None:
        waiting = {q.case_id: q for q in await self.workflow.in_stage(*CLAIMABLE)}
        order = ordered(
            Waiting(q.case_id, q.urgent, q.since / 1000, q.stage == "waiting_async") for q in waiting.values()
        )
        lines = []
        for item in order:
            q = waiting[item.case]
            case = await self.cases.get(item.case)
            assert case is not None
            answers = await self.triage.answers(item.case)
            lines.append(QueueLine(case.number, q.urgent, q.since, answers, q.stage == "waiting_async"))
        claimed = len(await self.workflow.in_stage("claimed"))
        listing = render_queue(lines, claimed, self.definition, self.language, call.now)
        return "\n".join([listing, *roster_lines(await self.domain.roster.loads(), self.language)])

    def _outcome(self, given: str | None) -> str:
        if given is None:
            raise UserError("queue.staff.outcome_missing", example=self.outcomes[0], outcomes=self._listed)
        if given not in self.outcomes:
            raise UserError("queue.staff.outcome_unknown", outcome=given, outcomes=self._listed)
        return given

    async def trace(self, turn: Turn) -> None:
        """A staff message in the queue room in a card's thread (or replying to it) is about that
        case: it is redacted when the case is purged (free text must not outlive the case)."""
        if turn.where.kind != "queue":
            return
        context = Context.of(turn.event_id, turn.content)
        for event_id in (context.thread_root, context.replying_to):
            case_id = await self.cards.case_of(event_id) if event_id else None
            if case_id is not None:
                await self.stores.traces.add(case_id, turn.where.room_id, turn.event_id)
                return

    # 👍 on a card

    async def on_reaction(self, turn: Turn) -> None:
        relates = turn.content.get("m.relates_to")
        if turn.where.kind != "queue" or not isinstance(relates, dict) or relates.get("rel_type") != "m.annotation":
            return
        key, target = relates.get("key"), relates.get("event_id")
        if not isinstance(key, str) or not key.startswith(THUMBS_UP) or not isinstance(target, str):
            return
        case_id = await self.cards.case_of(EventID(target))
        case = await self.cases.get(case_id) if case_id else None
        if case is None:
            return
        member = await self.stores.staff.get(turn.sender)
        try:
            if member is None or member.role not in CLAIM_ROLES:
                raise UserError("commands.not_staff")
            # Clients send reactions in the clear, naming no device: a 👍 counts only while every
            # device of the counsellor is cross-signed (as commands count only from one).
            if not turn.encrypted and not await self.trust.all_devices_cross_signed(turn.sender):
                raise UserError("queue.staff.reaction_unverified", number=case.number)
            await self.domain.claim(case, turn.sender, turn.now)
        except UserError as exc:
            body = text(self.language, exc.key, **exc.values)
            await reply(self.stores, turn.where.room_id, body, EventID(target), turn.now)
        # Claimed: the summary in the card's thread mentions the new counsellor.

    # A staff member's identity changed

    async def identity_changed(self, user: UserID, master: str) -> None:
        """Say so in the queue room, once per new identity: the bots share no keys with them now."""
        member = await self.stores.staff.get(user)
        if member is None or member.role == "partner":
            return
        async with self.stores.transaction():
            if not await self.stores.pins.announce(user, master):
                return
            body = text(self.language, "queue.staff.identity_changed", user=user)
            content = {"msgtype": "m.text", "body": body, "m.mentions": {"user_ids": [user]}}
            await self.stores.outbox.enqueue(self.queue_room, "m.room.message", content, millis(self.clock))

    # A counsellor walking out

    async def on_member(self, turn: Turn, change: Membership) -> bool:
        """The claiming counsellor left (or declined) the chat on their own: back to the queue."""
        case = turn.where.case_room
        if case is None or change.change != "leave" or change.user == case.visitor:
            return False
        q = await self.workflow.get(case.id)
        if q is None or q.stage != "claimed" or q.claimed_by != change.user:
            return False  # removed by the bot (release, transfer), or after the close: nothing to do
        await self.domain.release(case, change.user, turn.now, walked_out=True)
        return True
