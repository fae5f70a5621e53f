"""The queue worker: makes Synapse and the visitors catch up with what the database decided.

One named background task. Each round it looks at the stored state only, so a restart (or
a SIGKILL) simply carries on where the last round stopped:

- departures: cases the visitor ended through the session API → the card and counsellor;
- cards: post the card once (its outbox transaction ID is stored with the case, so never
  twice), learn its event ID when sent, and edit it (``m.replace``) when its version moved;
- staff posts (summary, notes, reminders) → the outbox, under the card, once it exists;
- room access: the claiming counsellor is moderator and invited, a previous one kicked;
- the staff Space: case rooms in the queue or claimed are children, others are not;
- reminders whose due time has passed (stored due times, so timers survive restarts);
- new places in the queue, told to waiting visitors (throttled) while the chat is open;
- "we are closed now" to visitors still waiting or in triage when the opening hours end;
- erasing visitor accounts a while after a counsellor closed their case.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from bots.clock import millis
from bots.concern import Parts
from bots.db.case import Case
from bots.db.queue_case import DEPARTURES, QueueCase
from bots.homeserver.admin import SynapseError
from bots.ids import RoomID
from bots.matrix.content import card_content, card_edit, place_message, under_card, visitor_message
from bots.queue.cards import render_card
from bots.queue.closed import closed_text
from bots.queue.domain import CLOSED_BY_COUNSELLOR, MINUTE_MS, QueueDomain
from bots.queue.rooms import StaffMatrix
from bots.queue.throttle import position_update_due
from bots.texts import as_language
from keerpunt.base.service import wake_loop

log = logging.getLogger(__name__)

# Closes after which the visitor is erased once ``queue.erase_after_minutes`` passed (so they
# can still read the last messages); a visitor who ends the chat is erased at once.
ERASED_AFTER_GRACE = (CLOSED_BY_COUNSELLOR, "abandoned", "left", "timeout")

IDLE_WAIT = 2.0
BUSY_WAIT = 0.25
RETRY_CAP = 30.0
# Changes in Synapse (room access, Space links) per round, and at once.
PER_ROUND = 8
IN_PARALLEL = 4


class QueueWorker:
    name = "queue"

    def __init__(
        self,
        parts: Parts,
        domain: QueueDomain,
        matrix: StaffMatrix,
        queue_room: RoomID,
        erase: Callable[[Case], Awaitable[None]],
    ) -> None:
        self.stores = parts.stores
        self.cases = parts.stores.cases
        self.queue = parts.stores.queue
        self.posts = parts.stores.posts
        self.outbox = parts.stores.outbox
        self.domain = domain
        self.matrix = matrix
        self.definition = parts.definition
        self.hours = parts.hours
        self.settings = parts.config.queue
        self.staff_language = parts.staff_language
        self.queue_room = queue_room
        self.portal_url = parts.config.portal.public_url
        self.clock = parts.clock
        self.sent = parts.wakeups.to_send
        self.erase = erase
        self._wake = asyncio.Event()
        self._was_open: bool | None = None

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        await wake_loop("The queue worker", self.step, self._wake, busy=BUSY_WAIT, idle=IDLE_WAIT, cap=RETRY_CAP)

    async def step(self) -> bool:
        """One round; True when something is still on its way (come back soon)."""
        now = millis(self.clock)
        await self._departures(now)
        busy = await self._cards(now)
        busy = await self._posts(now) or busy
        busy = await self._access() or busy
        busy = await self._space() or busy
        await self._replaced_cards()
        await self._reminders(now)
        open_now = self.hours.is_open(self._moment(now))
        if open_now:
            await self._places(now)
        await self._hours(now, open_now)
        await self._erase(now)
        return busy

    @staticmethod
    def _moment(now: int) -> datetime:
        return datetime.fromtimestamp(now / 1000, tz=UTC)

    async def _case(self, case_id: str) -> Case:
        case = await self.cases.get(case_id)
        assert case is not None
        return case

    async def _departures(self, now: int) -> None:
        for q in await self.queue.returned():
            async with self.stores.transaction():
                await self.domain.returned(await self._case(q.case_id), q, now)
            self.sent()
        for case_id, reason in await self.queue.ended_by_visitor():
            if reason in DEPARTURES:
                async with self.stores.transaction():
                    await self.domain.depart(await self._case(case_id), reason, now)
                self.sent()

    async def _cards(self, now: int) -> bool:
        busy = False
        for q in await self.queue.cards_to_show():
            case = await self._case(q.case_id)
            if q.card_txn is None:
                if q.waiting_since is None:  # never in the queue: no card
                    await self.queue.card_edited(q.case_id, q.card_version)
                    continue
                content = card_content(await self._render(case, q, now), case.number, q.stage)
                async with self.stores.transaction():
                    txn = await self.outbox.enqueue(self.queue_room, "m.room.message", content, now, case_id=q.case_id)
                    await self.queue.card_enqueued(q.case_id, txn, q.card_version)
                self.sent()
                busy = True
            elif q.card_event_id is None:
                busy = await self._card_sent(q) or busy
            elif q.card_version > q.card_shown:
                body = await self._render(case, q, now)
                async with self.stores.transaction():
                    edit = card_edit(body, case.number, q.stage, q.card_event_id)
                    await self.outbox.enqueue(self.queue_room, "m.room.message", edit, now, case_id=q.case_id)
                    await self.queue.card_edited(q.case_id, q.card_version)
                self.sent()
        return busy

    async def _replaced_cards(self) -> None:
        """A card posted again (for a counsellor's new session): the one it replaces goes."""
        for case_id, old in await self.queue.replaced_cards():
            await self.matrix.redact(self.queue_room, old)
            await self.queue.replaced_redacted(case_id)

    async def _card_sent(self, q: QueueCase) -> bool:
        """Learn the card's event ID from the outbox; True while it is still on its way."""
        assert q.card_txn is not None
        message = await self.outbox.get(q.card_txn)
        if message is not None and message.state == "sent" and message.event_id:
            await self.queue.card_sent(q.case_id, message.event_id)
            self.wake()  # edits and posts can follow now
            return False
        if message is None or message.state == "failed":
            log.error("The card of a case could not be posted in the queue room; check the bot's membership there")
            return False
        return True

    async def _render(self, case: Case, q: QueueCase, now: int) -> str:
        facts = await self.domain.facts(case, q)
        return render_card(facts, self.definition, self.staff_language, self.hours.zone, self._moment(now))

    async def _posts(self, now: int) -> bool:
        busy = False
        cards: dict[str, QueueCase | None] = {}
        for post in await self.posts.waiting():
            if post.case_id not in cards:
                cards[post.case_id] = await self.queue.get(post.case_id)
            q = cards[post.case_id]
            if q is None or post.content is None:
                continue
            if q.card_event_id is None:
                if q.card_txn is None and q.waiting_since is None and q.stage == "closed":
                    await self.posts.handed_over(post.seq, "dropped")  # there will never be a card
                else:
                    busy = True
                continue
            content = under_card(post.content, post.relation, q.card_event_id)
            async with self.stores.transaction():
                txn = await self.outbox.enqueue(self.queue_room, "m.room.message", content, now, case_id=q.case_id)
                await self.posts.handed_over(post.seq, txn)
            self.sent()
        return busy

    async def _batch(
        self,
        items: list[QueueCase],
        apply: Callable[[QueueCase], Awaitable[None]],
        gone: Callable[[QueueCase], Awaitable[None]],
    ) -> bool:
        """Apply a bounded number of changes in Synapse at once; True when more are left for the next round.

        Rounds stay short under load (fifty cases entering at once), so cards, invites and
        reminders of other cases never wait behind a long row of Space links.
        """
        batch = items[:PER_ROUND]
        limit = asyncio.Semaphore(IN_PARALLEL)

        async def one(q: QueueCase) -> None:
            async with limit:
                try:
                    await apply(q)
                except SynapseError as exc:
                    if exc.status not in (403, 404):
                        raise
                    # The room is gone or the bot lost its power there: nothing to apply, ever.
                    log.warning("Could not apply a change to a case room (%s); giving up on it", exc.errcode)
                    await gone(q)

        results = await asyncio.gather(*(one(q) for q in batch), return_exceptions=True)
        failures = [r for r in results if isinstance(r, BaseException)]
        for failure in failures:  # the others were applied; these are tried again next round
            log.error("Applying a case change in Synapse failed", exc_info=failure)
        return bool(failures) or len(items) > len(batch)

    async def _access(self) -> bool:
        async def apply(q: QueueCase) -> None:
            case = await self._case(q.case_id)
            if case.room_id is not None and case.purged_at is None:
                await self.matrix.give_access(case.room_id, q.claimed_by, q.room_counsellor)
                log.info("Room access of case %s applied", case.number)
            await self.queue.access_applied(q.case_id, q.claimed_by)

        async def gone(q: QueueCase) -> None:
            await self.queue.access_applied(q.case_id, q.claimed_by)

        return await self._batch(await self.queue.access_to_apply(), apply, gone)

    async def _space(self) -> bool:
        async def apply(q: QueueCase) -> None:
            case = await self._case(q.case_id)
            if case.room_id is not None and case.purged_at is None:
                await self.matrix.link(case.room_id, q.wants_space)
            await self.queue.space_applied(q.case_id, q.wants_space)

        async def gone(q: QueueCase) -> None:
            await self.queue.space_applied(q.case_id, q.wants_space)

        return await self._batch(await self.queue.space_to_apply(), apply, gone)

    async def _reminders(self, now: int) -> None:
        for q in await self.queue.due_reminders(now):
            async with self.stores.transaction():
                sent = await self.domain.remind(await self._case(q.case_id), q, now)
            if sent:
                log.info("Reminded the queue room of a case waiting unclaimed")
                self.wake()

    async def _places(self, now: int) -> None:
        places = await self.domain.places()
        if not places:
            return
        interval = int(self.settings.position_update_minutes * MINUTE_MS)
        for q in await self.queue.in_stage("waiting"):
            place = places.get(q.case_id)
            if place is None or not q.triage_done or q.departure is not None:
                continue
            due = position_update_due(
                position=place.position,
                told_position=q.notified_position,
                told_at=q.notified_at,
                now=now,
                min_interval_ms=interval,
            )
            if not due:
                continue
            case = await self._case(q.case_id)
            assert case.room_id is not None
            async with self.stores.transaction():
                if await self.queue.notify_once(q.case_id, q.notified_position, place.position, now):
                    content = place_message(as_language(case.language), place.position, place.minutes)
                    await self.outbox.enqueue(case.room_id, "m.room.message", content, now)
            self.sent()

    async def _hours(self, now: int, open_now: bool) -> None:
        was_open, self._was_open = self._was_open, open_now
        if open_now:
            if was_open is not True:
                await self.queue.reset_closed_notices()
            return
        moment = self._moment(now)
        for q in await self.queue.in_stage("triage", "waiting"):
            if q.closed_notice_at is not None or q.departure is not None:
                continue
            case = await self._case(q.case_id)
            assert case.room_id is not None
            language = as_language(case.language)
            content: dict[str, Any] = visitor_message(
                closed_text(language, self.hours, moment, self.portal_url), "queue.hours_closed"
            )
            async with self.stores.transaction():
                await self.outbox.enqueue(case.room_id, "m.room.message", content, now)
                await self.queue.closed_notice(q.case_id, now)
            self.sent()
            log.info("Told a waiting visitor that the chat has closed")

    async def _erase(self, now: int) -> None:
        grace = int(self.settings.erase_after_minutes * MINUTE_MS)
        for case_id in await self.queue.to_erase(ERASED_AFTER_GRACE, now - grace):
            case = await self._case(case_id)
            await self.erase(case)
            log.info("Erased the visitor of case %s after its close", case.number)
