"""What waiting visitors are told without asking: a new place in the queue (throttled) while
the chat is open, "we are closed now" when the opening hours end (once per closing), and
"nobody is there right now" while every counsellor is on a break (once per such time; they keep
their place, and hear it again once someone is back), and, once, that nobody on shift speaks
their language, with Dutch or English offered now (issue 26)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal

from bots.clock import Clock, millis
from bots.concern import Reconciler
from bots.counsellors.availability import speakers
from bots.db import Stores
from bots.db.case import Case
from bots.matrix.content import place_message, visitor_message
from bots.queue.closed import closed_text
from bots.queue.domain import MINUTE_MS, QueueDomain
from bots.queue.throttle import position_update_due
from bots.texts import STAFF_LANGUAGES, as_language, text
from keerpunt.base.hours import OpeningHours

log = logging.getLogger(__name__)

# Open with someone there; closed (opening hours); open, but every counsellor on a break.
Staffing = Literal["open", "closed", "unstaffed"]


class VisitorNotices(Reconciler):
    name = "queue notices"
    title = "The waiting visitors' notices"

    def __init__(
        self,
        stores: Stores,
        domain: QueueDomain,
        hours: OpeningHours,
        portal_url: str,
        clock: Clock,
        to_send: Callable[[], None],
    ) -> None:
        super().__init__()
        self.stores = stores
        self.notices = stores.queue.notices
        self.domain = domain
        self.hours = hours
        self.portal_url = portal_url
        self.interval = int(domain.settings.position_update_minutes * MINUTE_MS)
        self.clock = clock
        self.to_send = to_send
        self._was: Staffing | None = None

    async def step(self) -> bool:
        now = millis(self.clock)
        staffing: Staffing = "open"
        if not self.hours.is_open(datetime.fromtimestamp(now / 1000, tz=UTC)):
            staffing = "closed"
        elif await self.domain.nobody_there():
            staffing = "unstaffed"
        if staffing == "open":
            await self._places(now)
            await self._languages(now)
        await self._hours(now, staffing)
        return False

    async def _case(self, case_id: str) -> Case:
        case = await self.stores.cases.get(case_id)
        assert case is not None and case.room_id is not None
        return case

    async def _places(self, now: int) -> None:
        places = await self.domain.places()
        if not places:
            return
        for told in await self.notices.places_told():
            place = places.get(told.case_id)
            if place is None:
                continue
            due = position_update_due(
                position=place.position,
                told_position=told.position,
                told_at=told.at,
                now=now,
                min_interval_ms=self.interval,
            )
            if not due:
                continue
            case = await self._case(told.case_id)
            assert case.room_id is not None
            async with self.stores.transaction():
                if await self.notices.notify_once(told.case_id, told.position, place.position, now):
                    content = place_message(as_language(case.language), place.position, place.minutes)
                    await self.stores.outbox.enqueue(case.room_id, "m.room.message", content, now)
            self.to_send()

    async def _languages(self, now: int) -> None:
        """A visitor whose language nobody on shift speaks is told so, once, in that language,
        and offered Dutch or English now (issue 26)."""
        waiting = await self.notices.language_to_tell(STAFF_LANGUAGES)
        if not waiting:
            return
        loads = await self.domain.roster.loads()
        for case_id, language in waiting:
            if speakers(loads, language):
                continue  # someone on shift speaks it: the reminder names them
            case = await self._case(case_id)
            assert case.room_id is not None
            body = text(as_language(language), "queue.visitor.other_language")
            async with self.stores.transaction():
                if await self.notices.language_notice(case_id, now):
                    content = visitor_message(body, "queue.other_language")
                    await self.stores.outbox.enqueue(case.room_id, "m.room.message", content, now)
            self.to_send()
            log.info("Told a waiting visitor that nobody on shift speaks their language")

    async def _hours(self, now: int, staffing: Staffing) -> None:
        was, self._was = self._was, staffing
        if staffing != was and was is not None:
            await self.notices.reset_closed_notices()  # each change is told once
        if staffing == "open":
            if was is None:
                await self.notices.reset_closed_notices()
            return
        moment = datetime.fromtimestamp(now / 1000, tz=UTC)
        waiting = await (self.notices.closed_to_tell() if staffing == "closed" else self.notices.unstaffed_to_tell())
        for case_id in waiting:
            case = await self._case(case_id)
            assert case.room_id is not None
            language = as_language(case.language)
            if staffing == "closed":
                body, kind = closed_text(language, self.hours, moment, self.portal_url), "queue.hours_closed"
            else:
                body, kind = text(language, "queue.visitor.nobody_there", portal=self.portal_url), "queue.nobody_there"
            content: dict[str, Any] = visitor_message(body, kind)
            async with self.stores.transaction():
                await self.stores.outbox.enqueue(case.room_id, "m.room.message", content, now)
                await self.notices.closed_notice(case_id, now)
            self.to_send()
            log.info("Told a waiting visitor: %s", "the chat has closed" if staffing == "closed" else "nobody is there")
