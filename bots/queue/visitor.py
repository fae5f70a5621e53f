"""The visitor's side of a case room: the greeting, the triage dialog, then the queue.

Each visitor event arrives in the router's turn (one transaction with its handled-event
record), so a crash and the replayed batch never answer twice and never lose a step:

- the first event (``nl.keerpunt.start`` or any message) → the greeting, then the first
  question after a short intro; outside opening hours the "we are closed" message instead of
  questions, and the case goes straight into the queue so nobody is forgotten;
- a reply to a question (``nl.keerpunt.reply``, the option's number or its label) → the
  option id is stored (never the text) and the next question asked; "yes, in danger" → the
  112 message at once and the case into the queue at the head, while the questions go on;
- a gentle re-ask once for something short that is not an answer; a longer message or a
  second miss ends triage and the visitor goes to the queue without being blocked;
- after triage (or once a counsellor took over) messages are for the counsellor: no answer;
- the visitor leaving the room (or ending the chat, or fleeing) → the card and the counsellor
  are told.

An answer to an open handover question never gets here: the handover's hook comes first.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from bots.db import Stores
from bots.db.case import Case
from bots.db.queue.triage import TriageProgress
from bots.db.queue.workflow import Departure, Workflow
from bots.limits import FirstContactLimits
from bots.matrix.content import visitor_message
from bots.queue.closed import closed_text
from bots.queue.domain import QueueDomain
from bots.texts import Language, as_language, text
from bots.texts.moments import phrase
from bots.triage.definition import TriageDefinition
from bots.triage.engine import Outcome, TriageState, interpret
from bots.triage.greeting import START_EVENT, greeting_content, start_language
from bots.triage.prompts import question_content, reply_parts
from bots.turn import Membership, Turn
from keerpunt.base.hours import OpeningHours

log = logging.getLogger(__name__)


class VisitorSide:
    def __init__(
        self,
        stores: Stores,
        domain: QueueDomain,
        definition: TriageDefinition,
        hours: OpeningHours,
        portal_url: str,
        limits: FirstContactLimits,
    ) -> None:
        self.cases = stores.cases
        self.workflow = stores.queue.workflow
        self.triage = stores.queue.triage
        self.notices = stores.queue.notices
        self.log = stores.case_log
        self.outbox = stores.outbox
        self.later = stores.later
        self.domain = domain
        self.definition = definition
        self.hours = hours
        self.portal_url = portal_url
        self.limits = limits

    async def on_visitor(self, turn: Turn) -> bool:
        """The visitor's event in their case room: greet, or read the answer to a question."""
        case = turn.where.case
        assert case is not None
        q = await self.workflow.get(case.id)
        progress = await self.triage.get(case.id)
        if q is None or progress is None:
            await self._greet(case, turn.type, turn.content, turn.now)
        elif not progress.done and turn.type != START_EVENT:
            await self._answer(await self._fresh(case), q, progress, turn.type, turn.content, turn.now)
        return True

    async def on_member(self, turn: Turn, change: Membership) -> bool:
        """The visitor left their case room (or ended the chat): the card and the counsellor are told."""
        case = turn.where.case_room
        if case is None or change.change != "leave" or change.user != case.visitor:
            return False
        # The session API closes the case (with its reason) before it erases the account.
        departure: Departure = "left"
        if case.state == "closed" and case.close_reason in ("ended", "quick_exit"):
            departure = "quick_exit" if case.close_reason == "quick_exit" else "ended"
        await self.domain.depart(case, departure, turn.now)
        return True

    async def _fresh(self, case: Case) -> Case:
        fresh = await self.cases.get(case.id)
        assert fresh is not None
        return fresh

    async def _send(self, case: Case, content: dict[str, Any], now: int) -> None:
        assert case.room_id is not None
        await self.outbox.enqueue(case.room_id, "m.room.message", content, now)

    async def _greet(self, case: Case, event_type: str, content: dict[str, Any], now: int) -> None:
        language = start_language(event_type, content, case.language)
        if await self.cases.mark_greeted(case.id, language, now):
            await self._send(case, greeting_content(language), now)
        await self.workflow.insert(case.id, now)
        moment = datetime.fromtimestamp(now / 1000, tz=UTC)
        open_now = self.hours.is_open(moment)
        await self.log.add(case.id, "greeted", now, None, "hours=open" if open_now else "hours=closed")
        case = await self._fresh(case)
        if await self.domain.route(case, now):
            # Opened by an outreach invite: the worker who reached out joins now, whatever the
            # hours; the short triage still runs while they come.
            first = self.definition.questions[0]
            await self._send(
                case, question_content(self.definition, first, language, lead=text(language, "triage.intro")), now
            )
            return
        if not open_now and await self._writing_later(case):
            # Started while closed to leave a message (docs/write-later.md): the questions run
            # as in a live chat; the case waits in the queue until the visitor leaves it.
            lead = text(language, "queue.visitor.later_closed", opens=self._opens(language, moment))
            await self._send(case, visitor_message(lead, "queue.later_closed"), now)
            await self.notices.closed_notice(case.id, now)  # said in the lead: not again
            first = self.definition.questions[0]
            await self._send(case, question_content(self.definition, first, language), now)
            return
        if not open_now:
            body = closed_text(language, self.hours, moment, self.portal_url)
            await self._send(case, visitor_message(body, "queue.hours_closed"), now)
            await self.notices.closed_notice(case.id, now)
            await self.triage.save(case.id, 0, 0, True)
            await self.domain.enter_queue(case, now)
            return
        first = self.definition.questions[0]
        await self._send(
            case, question_content(self.definition, first, language, lead=text(language, "triage.intro")), now
        )

    async def _writing_later(self, case: Case) -> bool:
        later = await self.later.get(case.id)
        return later is not None and later.reason == "closed"

    def _opens(self, language: Language, moment: datetime) -> str:
        opening = self.hours.next_opening(moment)
        return phrase(language, opening, moment) if opening is not None else ""

    async def _answer(
        self, case: Case, q: Workflow, progress: TriageProgress, event_type: str, content: dict[str, Any], now: int
    ) -> None:
        body, reply = reply_parts(event_type, content)
        if body is None and reply is None:
            return  # not a message (a reaction, a receipt-like event): nothing to read
        language = as_language(case.language)
        answers = await self.triage.answers(case.id)
        state = TriageState(progress.index, answers, progress.reasks, progress.done)
        question = state.current(self.definition)
        if question is None:
            return
        answer = interpret(self.definition, state, body=body, reply=reply)
        state.apply(self.definition, answer)
        if answer.outcome in (Outcome.ANSWERED, Outcome.SKIPPED):
            option = answer.option or self.definition.skip.id
            await self.triage.add_answer(case.id, question.id, option, now)
            await self.log.add(case.id, "answered", now, None, f"{question.id}={option}")
        elif answer.outcome is Outcome.FREE_TEXT:
            await self.log.add(case.id, "triage_stopped", now)
        await self.triage.save(case.id, state.index, state.reasks, state.done)
        if answer.urgent:
            await self._urgent(case, q, language, now)
        if state.done:
            await self._done(case, q, language, now)
            return
        following = state.current(self.definition)
        assert following is not None
        lead = text(language, "triage.reask") if answer.outcome is Outcome.REASK else None
        await self._send(case, question_content(self.definition, following, language, lead=lead), now)

    async def _urgent(self, case: Case, q: Workflow, language: Language, now: int) -> None:
        # At once, in this same turn, before anything else: then the case jumps the queue.
        moment = datetime.fromtimestamp(now / 1000, tz=UTC)
        if not self.hours.is_open(moment) and await self._writing_later(case):
            # Nobody reads a message for later before the next opening: said at once, honestly.
            body = text(language, "triage.urgent_closed", opens=self._opens(language, moment))
            await self._send(case, visitor_message(body, "triage.urgent"), now)
        else:
            await self._send(case, visitor_message(text(language, "triage.urgent"), "triage.urgent"), now)
        if self.limits.may_jump_queue(case.id):
            await self.domain.mark_urgent(case, now)
        else:
            await self.domain.urgent_held_back(case, int(self.limits.urgent.capacity), now)
        if q.stage == "triage":
            await self.domain.enter_queue(case, now)

    async def _done(self, case: Case, q: Workflow, language: Language, now: int) -> None:
        if q.stage == "triage":
            await self.domain.enter_queue(case, now)
        if q.stage in ("triage", "waiting"):
            thanks = text(language, "triage.done")
            if self.hours.is_open(datetime.fromtimestamp(now / 1000, tz=UTC)):
                await self.domain.tell_place(case, now, lead=thanks)
            elif await self._writing_later(case):
                await self._send(case, visitor_message(text(language, "triage.done_later"), "triage.done"), now)
            else:  # no estimate at night: the place is told when the chat opens again
                await self._send(case, visitor_message(thanks, "triage.done"), now)
        elif q.stage == "claimed":  # an outreach case: the worker is (about to be) there
            await self._send(case, visitor_message(text(language, "triage.done_routed"), "triage.done"), now)
