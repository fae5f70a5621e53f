"""Reminders in the queue room about a case nobody claimed (stored due times, so the timers
survive a restart; each fires once per due time).

A live chat is reminded of every ``reminder_minutes`` (``urgent_reminder_minutes`` when
urgent) from the moment it waits. A message left to be answered later (docs/write-later.md)
is reminded of only while the chat is open: first ``reminder_minutes`` after the next opening
(or after it was left, when the chat was open), with how many hours are left of the answer
time promised to the visitor; a reminder that comes due while the chat is closed moves to the
next opening without a post.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from bots.counsellors.availability import reminder_recipients, speakers
from bots.db.case import Case
from bots.db.queue.notices import Reminder
from bots.matrix.content import staff_text
from bots.texts import STAFF_LANGUAGES, language_label, text
from bots.texts.moments import minutes_between
from keerpunt.base.hours import OpeningHours

if TYPE_CHECKING:  # the domain uses first_reminder
    from bots.queue.domain import QueueDomain

HOUR_MS = 3_600_000


def first_reminder(hours: OpeningHours, now: int, after_ms: int) -> int | None:
    """When a message left for later at ``now`` is first reminded of: ``after_ms`` after the
    chat is next open; None when it never opens."""
    opening = hours.next_opening(datetime.fromtimestamp(now / 1000, tz=UTC))
    if opening is None:
        return None
    return max(now, int(opening.timestamp() * 1000)) + after_ms


class QueueReminders:
    def __init__(self, domain: QueueDomain, hours: OpeningHours) -> None:
        self.domain = domain
        self.stores = domain.stores
        self.hours = hours

    async def remind(self, case: Case, reminder: Reminder, now: int) -> bool:
        """Ping the queue room about a case nobody claimed; False if this reminder was sent
        before, or (a message for later) moved to the next opening."""
        domain = self.domain
        every = domain.reminder_ms(reminder.urgent)
        moment = datetime.fromtimestamp(now / 1000, tz=UTC)
        if reminder.later and not self.hours.is_open(moment):
            await self.stores.queue.notices.next_reminder(case.id, reminder.due, first_reminder(self.hours, now, every))
            return False
        if not await self.stores.queue.notices.next_reminder(case.id, reminder.due, now + every):
            return False
        # Who may take it now, never anyone on a break, those who speak the visitor's language
        # first (bots.counsellors decides who).
        loads = await domain.roster.loads()
        who = reminder_recipients(loads, urgent=reminder.urgent, language=case.language)
        body = await self._body(case, reminder, now, ", ".join(who))
        if case.language not in STAFF_LANGUAGES:
            # Also those who speak it but are busy: one may hand a chat on to take this one.
            speaking = speakers(loads, case.language)
            who = list(dict.fromkeys([*speaking, *who]))
            body += "\n" + text(
                domain.staff_language,
                "queue.staff.reminder_language",
                visitor_language=language_label(domain.staff_language, case.language),
                speakers=", ".join(speaking),
            )
        await self.stores.posts.add(case.id, "reply", staff_text(body, mentions=who), now)
        await self.stores.case_log.add(case.id, "reminder", now)
        return True

    async def _body(self, case: Case, reminder: Reminder, now: int, who: str) -> str:
        language, minutes = self.domain.staff_language, minutes_between(reminder.since, now)
        if not reminder.later:
            key = "queue.staff.reminder_urgent" if reminder.urgent else "queue.staff.reminder"
            return text(language, key, number=case.number, minutes=minutes, who=who)
        later = await self.stores.later.get(case.id)
        due = later.answer_due if later is not None else None
        hours_left = None if due is None else max(0, math.ceil((due - now) / HOUR_MS))
        return text(
            language,
            "queue.staff.reminder_later",
            number=case.number,
            urgent=reminder.urgent,
            hours=minutes // 60,
            hours_left=hours_left,
            who=who,
        )
