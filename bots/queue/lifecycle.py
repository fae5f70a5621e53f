"""Every case ends (SECURITY.md G.29): the timers that close what nobody closes.

- a visitor who never wrote after the session was made (a closed tab, a killed phone
  browser): ``abandoned``;
- a visitor silent in the triage questions, or waiting in the queue without a word for
  longer than ``lifecycle.silent_in_queue_minutes``: ``abandoned``;
- a visitor who left the room before anyone claimed the chat: ``left``;
- a claimed chat where nobody wrote for ``idle_warning_minutes``: the counsellor is warned
  under the card (never a silent close of a live conversation); ``idle_close_minutes`` later,
  still without a message, it closes as ``timeout``. Not while a handover is live.

The visitor is told when a timer closes the chat (if they left, nobody reads it); the card
shows why; the account is erased and the rooms purged as for any close. Each close is one
transaction, so a crash closes nothing twice. ``on_message`` records who last wrote.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from bots.clock import Clock, millis
from bots.concern import Reconciler
from bots.db import Stores
from bots.db.case import Case
from bots.db.queue.workflow import Workflow
from bots.matrix.content import staff_text, visitor_message
from bots.queue.domain import MINUTE_MS
from bots.texts import Language, as_language, text
from bots.turn import Turn
from bots.visitors.closing import close_case
from keerpunt.base.config import Config

log = logging.getLogger(__name__)

IDLE_WAIT = 30.0
HOUR_MS = 3_600_000


class Lifecycle(Reconciler):
    name = "lifecycle"
    title = "The case lifecycle"
    busy = 1.0
    idle = IDLE_WAIT

    def __init__(self, stores: Stores, config: Config, clock: Clock, to_send: Callable[[], None]) -> None:
        super().__init__()
        self.stores = stores
        self.settings = config.lifecycle
        self.case_room_days = config.retention.case_room_days
        self.staff_language: Language = config.languages.default
        self.clock = clock
        self.sent = to_send

    def minutes(self, value: float) -> int:
        return int(value * MINUTE_MS)

    # Who last wrote (a hook on every message in a room the bots know)

    async def on_message(self, turn: Turn) -> None:
        case = turn.where.case_room
        if case is not None:
            await self.stores.activity.wrote(case.id, turn.now, visitor=turn.sender == case.visitor)
            if case.state == "dormant" and turn.sender != case.visitor:
                await self._answered(case, turn)

    async def _answered(self, case: Case, turn: Turn) -> None:
        """A staff member's first message (not a command) in the room of a message left to be
        answered later: it now lasts as long as its code; counted with how long it took
        (docs/write-later.md)."""
        body = turn.content.get("body")
        if turn.type != "m.room.message" or not isinstance(body, str) or body.startswith("!"):
            return
        later = await self.stores.later.answered(case.id, turn.now)
        if later is None or later.left_at is None:
            return
        hours = (turn.now - later.left_at) // HOUR_MS
        in_time = "yes" if later.answer_due is None or turn.now <= later.answer_due else "no"
        await self.stores.case_log.add(case.id, "later_answered", turn.now, None, f"hours={hours} in_time={in_time}")
        log.info("The message of case %s was answered after %d hours", case.number, hours)

    # The timers

    async def step(self) -> bool:
        now = millis(self.clock)
        s = self.settings
        for case in await self.stores.activity.never_wrote(now - self.minutes(s.never_wrote_minutes)):
            await self._close(case, None, "abandoned", now)
        for q in await self.stores.queue.due.silent("triage", now - self.minutes(s.silent_in_triage_minutes)):
            await self._close(await self._case(q), q, "abandoned", now)
        for q in await self.stores.queue.due.silent("waiting", now - self.minutes(s.silent_in_queue_minutes)):
            await self._close(await self._case(q), q, "abandoned", now)
        for q in await self.stores.queue.due.left_unclosed():
            await self._close(await self._case(q), q, "left", now)
        for q in await self.stores.queue.due.idle(now - self.minutes(s.idle_warning_minutes)):
            await self._idle(await self._case(q), q, now)
        return False

    async def _case(self, q: Workflow) -> Case:
        case = await self.stores.cases.get(q.case_id)
        assert case is not None
        return case

    async def _idle(self, case: Case, q: Workflow, now: int) -> None:
        activity = await self.stores.activity.get(case.id)
        assert activity is not None
        if activity.idle_warned_at is None:
            async with self.stores.transaction():
                if not await self.stores.activity.idle_warned(case.id, now):
                    return
                idle = (now - (activity.last_message_at or q.claimed_at or now)) // MINUTE_MS
                body = text(
                    self.staff_language,
                    "queue.staff.idle_warning",
                    number=case.number,
                    minutes=idle,
                    close=int(self.settings.idle_close_minutes),
                )
                await self.stores.posts.add(case.id, "reply", staff_text(body, mention=q.claimed_by), now)
            log.info("Warned the counsellor of case %s about an idle chat", case.number)
            self.sent()
        elif activity.idle_warned_at <= now - self.minutes(self.settings.idle_close_minutes):
            await self._close(case, q, "timeout", now)

    async def _close(self, case: Case, q: Workflow | None, reason: str, now: int) -> None:
        async with self.stores.transaction():
            if not await close_case(self.stores, case.id, reason, now, self.case_room_days):
                return
            if q is not None and reason != "left":
                await self.stores.queue.workflow.expire(case.id, "timeout" if reason == "timeout" else "abandoned", now)
                await self.stores.case_log.add(case.id, "expired", now, None, reason)
            if reason == "timeout":
                body = text(self.staff_language, "queue.staff.timed_out", number=case.number)
                await self.stores.posts.add(case.id, "thread", staff_text(body), now)
            if reason != "left" and case.room_id is not None:
                key = f"queue.visitor.closed_{'timeout' if reason == 'timeout' else 'abandoned'}"
                body = text(as_language(case.language), key)
                await self.stores.outbox.enqueue(case.room_id, "m.room.message", visitor_message(body, key), now)
        log.info("Closed case %s (%s)", case.number, reason)
        self.sent()
