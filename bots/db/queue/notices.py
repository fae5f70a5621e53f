"""What the queue has told, and is due to tell: reminders in the queue room about a case nobody
claimed, the place told to a waiting visitor, and "we are closed now" once per closing.

Due times are stored, so timers survive a restart; each notice is recorded with a
compare-and-set, so two rounds (or two processes) never tell one twice.
"""

from __future__ import annotations

from dataclasses import dataclass

from mautrix.util.async_db import Database


@dataclass(frozen=True)
class Reminder:
    case_id: str
    due: int
    urgent: bool
    # Since when the case waits (or was greeted).
    since: int
    # A message left to be answered later (``waiting_async``), not a live chat.
    later: bool


@dataclass(frozen=True)
class PlaceTold:
    case_id: str
    position: int | None
    at: int | None


class NoticeStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    # Reminders in the queue room

    async def due_reminders(self, now: int) -> list[Reminder]:
        rows = await self.db.fetch(
            "SELECT case_id, reminder_due, urgent, COALESCE(waiting_since, greeted_at) AS since, stage FROM queue_case "
            "WHERE stage IN ('waiting', 'waiting_async') AND reminder_due IS NOT NULL AND reminder_due <= $1 "
            "ORDER BY reminder_due",
            now,
        )
        return [
            Reminder(row["case_id"], row["reminder_due"], bool(row["urgent"]), row["since"], row["stage"] != "waiting")
            for row in rows
        ]

    async def next_reminder(self, case_id: str, due: int, next_due: int | None) -> bool:
        """Move a fired reminder to its next due time; False if another run already did."""
        row = await self.db.fetchrow(
            "UPDATE queue_case SET reminder_due=$3, reminders_sent=reminders_sent+1 "
            "WHERE case_id=$1 AND reminder_due=$2 RETURNING case_id",
            case_id,
            due,
            next_due,
        )
        return row is not None

    async def remind_by(self, case_id: str, due: int) -> None:
        """A reminder no later than ``due`` (an urgent case waits less)."""
        await self.db.execute(
            "UPDATE queue_case SET reminder_due=$2 WHERE case_id=$1 AND (reminder_due IS NULL OR reminder_due > $2)",
            case_id,
            due,
        )

    # The place in the queue, told to the visitor

    async def places_told(self) -> list[PlaceTold]:
        """Visitors waiting after their triage, with the place they were told last (if any)."""
        rows = await self.db.fetch(
            "SELECT case_id, notified_position, notified_at FROM queue_case "
            "WHERE stage='waiting' AND triage_done AND departure IS NULL ORDER BY greeted_at"
        )
        return [PlaceTold(row["case_id"], row["notified_position"], row["notified_at"]) for row in rows]

    async def notify_once(self, case_id: str, told: int | None, position: int, now: int) -> bool:
        """Record a new place told to the visitor, unless someone else told one meanwhile."""
        row = await self.db.fetchrow(
            "UPDATE queue_case SET notified_position=$3, notified_at=$4 "
            "WHERE case_id=$1 AND COALESCE(notified_position, -1)=$2 RETURNING case_id",
            case_id,
            -1 if told is None else told,
            position,
            now,
        )
        return row is not None

    async def notified(self, case_id: str, position: int | None, now: int) -> None:
        await self.db.execute(
            "UPDATE queue_case SET notified_position=$2, notified_at=$3 WHERE case_id=$1", case_id, position, now
        )

    # "We are closed now"

    async def closed_to_tell(self) -> list[str]:
        """Visitors in triage or waiting, still there, not told since the chat closed."""
        rows = await self.db.fetch(
            "SELECT case_id FROM queue_case WHERE stage IN ('triage', 'waiting') "
            "AND closed_notice_at IS NULL AND departure IS NULL ORDER BY greeted_at"
        )
        return [row["case_id"] for row in rows]

    async def unstaffed_to_tell(self) -> list[str]:
        """Visitors waiting after their triage, still there, not told since nobody was there."""
        rows = await self.db.fetch(
            "SELECT case_id FROM queue_case WHERE stage='waiting' AND triage_done "
            "AND closed_notice_at IS NULL AND departure IS NULL ORDER BY greeted_at"
        )
        return [row["case_id"] for row in rows]

    async def closed_notice(self, case_id: str, now: int | None) -> None:
        await self.db.execute("UPDATE queue_case SET closed_notice_at=$2 WHERE case_id=$1", case_id, now)

    async def reset_closed_notices(self) -> None:
        await self.db.execute("UPDATE queue_case SET closed_notice_at=NULL WHERE closed_notice_at IS NOT NULL")

    # "Nobody on shift speaks your language" (issue 26)

    async def language_to_tell(self, spoken_by_all: tuple[str, ...]) -> list[tuple[str, str]]:
        """(case, language) of visitors waiting after their triage, still there, in a language
        not in ``spoken_by_all`` and not told about it yet; the earliest first."""
        rows = await self.db.fetch(
            "SELECT q.case_id, c.language FROM queue_case q JOIN visitor_case c ON c.id = q.case_id "
            "WHERE q.stage='waiting' AND q.triage_done AND q.departure IS NULL AND q.language_notice_at IS NULL "
            "ORDER BY q.greeted_at"
        )
        return [(row["case_id"], row["language"]) for row in rows if row["language"] not in spoken_by_all]

    async def language_notice(self, case_id: str, now: int) -> bool:
        """Told once; False when it was told before."""
        row = await self.db.fetchrow(
            "UPDATE queue_case SET language_notice_at=$2 WHERE case_id=$1 AND language_notice_at IS NULL "
            "RETURNING case_id",
            case_id,
            now,
        )
        return row is not None
