"""Where a case is in the counsellors' workflow: triage → waiting → claimed → closed.

One row per greeted case, beside ``visitor_case`` (the session's own lifecycle). Every
transition is a compare-and-set on the stage, so two concurrent claims cannot both win,
and every transition bumps ``card_version`` so the queue worker edits the card. Columns
named ``room_counsellor``, ``space_linked``, ``card_shown`` and ``card_event_id`` record
what has been *applied* in Synapse; the worker makes them match the decided state.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from mautrix.util.async_db import Database

from bots.ids import EventID, UserID

Stage = Literal["triage", "waiting", "claimed", "closed"]
# How a case ended without a counsellor's close: the visitor left, ended or fled, or a timer
# closed it (the visitor went silent: abandoned; an idle chat: timeout).
# 'dormant': the visitor ended with a return code and may come back (docs/return-code.md).
Departure = Literal["left", "ended", "quick_exit", "abandoned", "timeout", "dormant"]
DEPARTURES: tuple[Departure, ...] = ("left", "ended", "quick_exit", "dormant")


@dataclass(frozen=True)
class QueueCase:
    case_id: str
    stage: Stage
    urgent: bool
    triage_index: int
    triage_reasks: int
    triage_done: bool
    greeted_at: int
    waiting_since: int | None
    claimed_by: UserID | None
    claimed_at: int | None
    closed_at: int | None
    outcome: str | None
    departure: Departure | None
    room_counsellor: UserID | None
    space_linked: bool
    card_version: int
    card_shown: int
    card_txn: str | None
    card_event_id: EventID | None
    notified_position: int | None
    notified_at: int | None
    reminder_due: int | None
    reminders_sent: int
    closed_notice_at: int | None

    @property
    def in_queue(self) -> bool:
        return self.stage == "waiting"

    @property
    def wants_space(self) -> bool:
        """Whether the case room belongs in the staff Space (while someone works on it)."""
        return self.stage in ("waiting", "claimed")

    @classmethod
    def from_row(cls, row: Any) -> QueueCase:
        def user(value: Any) -> UserID | None:
            return UserID(value) if value else None

        return cls(
            case_id=row["case_id"],
            stage=row["stage"],
            urgent=bool(row["urgent"]),
            triage_index=row["triage_index"],
            triage_reasks=row["triage_reasks"],
            triage_done=bool(row["triage_done"]),
            greeted_at=row["greeted_at"],
            waiting_since=row["waiting_since"],
            claimed_by=user(row["claimed_by"]),
            claimed_at=row["claimed_at"],
            closed_at=row["closed_at"],
            outcome=row["outcome"],
            departure=row["departure"],
            room_counsellor=user(row["room_counsellor"]),
            space_linked=bool(row["space_linked"]),
            card_version=row["card_version"],
            card_shown=row["card_shown"],
            card_txn=row["card_txn"],
            card_event_id=EventID(row["card_event_id"]) if row["card_event_id"] else None,
            notified_position=row["notified_position"],
            notified_at=row["notified_at"],
            reminder_due=row["reminder_due"],
            reminders_sent=row["reminders_sent"],
            closed_notice_at=row["closed_notice_at"],
        )


class QueueStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def _one(self, query: str, *args: Any) -> QueueCase | None:
        row = await self.db.fetchrow(query, *args)
        return QueueCase.from_row(row) if row else None

    async def _many(self, query: str, *args: Any) -> list[QueueCase]:
        return [QueueCase.from_row(row) for row in await self.db.fetch(query, *args)]

    # Reads

    async def get(self, case_id: str) -> QueueCase | None:
        return await self._one("SELECT * FROM queue_case WHERE case_id=$1", case_id)

    async def by_card(self, event_id: EventID) -> QueueCase | None:
        return await self._one("SELECT * FROM queue_case WHERE card_event_id=$1", event_id)

    async def by_number(self, number: str) -> QueueCase | None:
        """The case with this number; an open one wins over closed ones that had it before."""
        return await self._one(
            "SELECT q.* FROM queue_case q JOIN visitor_case c ON c.id = q.case_id WHERE c.number=$1 "
            "ORDER BY CASE WHEN q.stage = 'closed' THEN 1 ELSE 0 END, c.created_at DESC LIMIT 1",
            number,
        )

    async def in_stage(self, *stages: Stage) -> list[QueueCase]:
        marks = ", ".join(f"${i}" for i in range(1, len(stages) + 1))
        return await self._many(f"SELECT * FROM queue_case WHERE stage IN ({marks}) ORDER BY greeted_at", *stages)  # noqa: S608 - placeholders only

    async def claimed_by(self, counsellor: UserID) -> list[QueueCase]:
        return await self._many(
            "SELECT * FROM queue_case WHERE stage='claimed' AND claimed_by=$1 ORDER BY claimed_at", counsellor
        )

    async def counsellors_busy(self) -> int:
        return int(await self.db.fetchval("SELECT COUNT(DISTINCT claimed_by) FROM queue_case WHERE stage='claimed'"))

    async def recent_handling_ms(self, limit: int) -> list[int]:
        """Claim-to-close durations of the most recently closed claimed cases."""
        rows = await self.db.fetch(
            "SELECT closed_at - claimed_at AS took FROM queue_case WHERE stage = 'closed' AND claimed_at IS NOT NULL "
            "ORDER BY closed_at DESC LIMIT $1",
            limit,
        )
        return [int(row["took"]) for row in rows]

    # Triage

    async def insert(self, case_id: str, now: int) -> None:
        await self.db.execute(
            "INSERT INTO queue_case (case_id, stage, greeted_at) VALUES ($1, 'triage', $2)", case_id, now
        )

    async def save_triage(self, case_id: str, index: int, reasks: int, done: bool) -> None:
        await self.db.execute(
            "UPDATE queue_case SET triage_index=$2, triage_reasks=$3, triage_done=$4 WHERE case_id=$1",
            case_id,
            index,
            reasks,
            done,
        )

    async def add_answer(self, case_id: str, question: str, option: str, now: int) -> None:
        await self.db.execute(
            "INSERT INTO triage_answer (case_id, question, option_id, answered_at) VALUES ($1, $2, $3, $4) "
            "ON CONFLICT (case_id, question) DO UPDATE SET option_id=excluded.option_id, "
            "answered_at=excluded.answered_at",
            case_id,
            question,
            option,
            now,
        )

    async def answers(self, case_id: str) -> dict[str, str]:
        rows = await self.db.fetch("SELECT question, option_id FROM triage_answer WHERE case_id=$1", case_id)
        return {row["question"]: row["option_id"] for row in rows}

    # Transitions: each a compare-and-set; None/False when the case was not in the expected stage.

    async def _transition(self, query: str, *args: Any) -> QueueCase | None:
        return await self._one(query + " RETURNING *", *args)

    async def mark_urgent(self, case_id: str) -> None:
        await self.db.execute(
            "UPDATE queue_case SET urgent=true, card_version=card_version+1 WHERE case_id=$1 AND NOT urgent", case_id
        )

    async def enter_queue(self, case_id: str, now: int, reminder_due: int) -> QueueCase | None:
        """triage → waiting. ``waiting_since`` is set once: a case re-queued keeps its place."""
        return await self._transition(
            "UPDATE queue_case SET stage='waiting', waiting_since=COALESCE(waiting_since, $2), reminder_due=$3, "
            "card_version=card_version+1 WHERE case_id=$1 AND stage='triage'",
            case_id,
            now,
            reminder_due,
        )

    async def claim(self, case_id: str, counsellor: UserID, now: int) -> QueueCase | None:
        """waiting → claimed: exactly one of any number of concurrent claims wins."""
        return await self._transition(
            "UPDATE queue_case SET stage='claimed', claimed_by=$2, claimed_at=$3, triage_done=true, "
            "reminder_due=NULL, card_version=card_version+1 WHERE case_id=$1 AND stage='waiting'",
            case_id,
            counsellor,
            now,
        )

    async def route(self, case_id: str, worker: UserID, now: int) -> QueueCase | None:
        """triage → claimed by the outreach worker whose invite opened the case. The triage goes
        on (``triage_done`` stays false); ``waiting_since`` makes the card appear."""
        return await self._transition(
            "UPDATE queue_case SET stage='claimed', claimed_by=$2, claimed_at=$3, waiting_since=$3, "
            "reminder_due=NULL, card_version=card_version+1 WHERE case_id=$1 AND stage='triage'",
            case_id,
            worker,
            now,
        )

    async def release(self, case_id: str, counsellor: UserID, reminder_due: int) -> QueueCase | None:
        """claimed → waiting, back at its original place (``waiting_since`` is kept)."""
        return await self._transition(
            "UPDATE queue_case SET stage='waiting', claimed_by=NULL, claimed_at=NULL, reminder_due=$3, "
            "notified_position=NULL, card_version=card_version+1 "
            "WHERE case_id=$1 AND stage='claimed' AND claimed_by=$2",
            case_id,
            counsellor,
            reminder_due,
        )

    async def transfer(
        self, case_id: str, stage: Stage, holder: UserID | None, to: UserID, now: int
    ) -> QueueCase | None:
        """Hand the case to ``to``; only if it is still in ``stage`` with the same holder."""
        return await self._transition(
            "UPDATE queue_case SET stage='claimed', claimed_by=$4, claimed_at=$5, triage_done=true, reminder_due=NULL, "
            "card_version=card_version+1 WHERE case_id=$1 AND stage=$2 AND COALESCE(claimed_by, '')=$3",
            case_id,
            stage,
            holder or "",
            to,
            now,
        )

    async def close(self, case_id: str, counsellor: UserID, outcome: str, now: int) -> QueueCase | None:
        return await self._transition(
            "UPDATE queue_case SET stage='closed', outcome=$3, closed_at=$4, reminder_due=NULL, "
            "card_version=card_version+1 WHERE case_id=$1 AND stage='claimed' AND claimed_by=$2",
            case_id,
            counsellor,
            outcome,
            now,
        )

    async def depart(self, case_id: str, departure: Departure, now: int) -> QueueCase | None:
        """The visitor left. An unclaimed case leaves the queue; a claimed one waits for !close.

        A closed case stays as it was closed (its visitor's account is erased after the close).
        """
        return await self._transition(
            "UPDATE queue_case SET departure=$2, reminder_due=NULL, card_version=card_version+1, "
            "stage=CASE WHEN stage IN ('triage', 'waiting') THEN 'closed' ELSE stage END, "
            "closed_at=CASE WHEN stage IN ('triage', 'waiting') THEN $3 ELSE closed_at END, "
            "triage_done=true WHERE case_id=$1 AND departure IS NULL AND stage <> 'closed'",
            case_id,
            departure,
            now,
        )

    async def expire(self, case_id: str, departure: Departure, now: int) -> QueueCase | None:
        """A timer closed the case (whatever its stage); None when it was closed before."""
        return await self._transition(
            "UPDATE queue_case SET stage='closed', departure=COALESCE(departure, $2), closed_at=$3, "
            "reminder_due=NULL, triage_done=true, card_version=card_version+1 "
            "WHERE case_id=$1 AND stage <> 'closed'",
            case_id,
            departure,
            now,
        )

    # The lifecycle's timers (the case record knows who last wrote)

    async def silent(self, stage: Stage, visitor_wrote_before: int) -> list[QueueCase]:
        """Open cases in ``stage`` whose visitor last wrote (or was greeted) before the time."""
        return await self._many(
            "SELECT q.* FROM queue_case q JOIN visitor_case c ON c.id = q.case_id WHERE q.stage = $1 "
            "AND c.state = 'open' AND COALESCE(c.last_visitor_at, c.greeted_at) <= $2",
            stage,
            visitor_wrote_before,
        )

    async def left_unclosed(self) -> list[QueueCase]:
        """Cases the visitor left before anyone claimed them, whose case record is still open."""
        return await self._many(
            "SELECT q.* FROM queue_case q JOIN visitor_case c ON c.id = q.case_id "
            "WHERE q.stage = 'closed' AND q.departure = 'left' AND c.state = 'open'"
        )

    async def idle(self, written_before: int) -> list[QueueCase]:
        """Claimed open chats where nobody wrote since the time, and no handover is live."""
        return await self._many(
            "SELECT q.* FROM queue_case q JOIN visitor_case c ON c.id = q.case_id WHERE q.stage = 'claimed' "
            "AND c.state = 'open' AND COALESCE(c.last_message_at, q.claimed_at) <= $1 "
            "AND NOT EXISTS (SELECT 1 FROM handover h WHERE h.case_id = q.case_id "
            "AND h.stage IN ('consented', 'accepted'))",
            written_before,
        )

    # What the worker applies

    async def ended_by_visitor(self) -> list[tuple[str, str]]:
        """Cases the visitor ended through the session API that the queue has not caught up with."""
        rows = await self.db.fetch(
            "SELECT q.case_id, c.close_reason FROM queue_case q JOIN visitor_case c ON c.id = q.case_id "
            "WHERE q.stage IN ('triage', 'waiting', 'claimed') AND q.departure IS NULL "
            "AND c.state IN ('closed', 'dormant') AND c.close_reason IN ('ended', 'quick_exit', 'dormant')"
        )
        return [(row["case_id"], row["close_reason"]) for row in rows]

    # The return code (docs/return-code.md)

    async def returned(self) -> list[QueueCase]:
        """Cases that went dormant and whose visitor came back (the case is open again)."""
        return await self._many(
            "SELECT q.* FROM queue_case q JOIN visitor_case c ON c.id = q.case_id "
            "WHERE q.departure = 'dormant' AND c.state = 'open'"
        )

    async def back_to(self, case_id: str, counsellor: UserID) -> QueueCase | None:
        """A returned case goes straight back to the counsellor who had it."""
        return await self._transition(
            "UPDATE queue_case SET stage='claimed', departure=NULL, outcome=NULL, closed_at=NULL, "
            "triage_done=true, reminder_due=NULL, card_version=card_version+1 "
            "WHERE case_id=$1 AND departure='dormant' AND claimed_by=$2",
            case_id,
            counsellor,
        )

    async def requeue(self, case_id: str, now: int, reminder_due: int) -> QueueCase | None:
        """A returned case whose counsellor is not there waits in the queue again, from now."""
        return await self._transition(
            "UPDATE queue_case SET stage='waiting', departure=NULL, outcome=NULL, closed_at=NULL, "
            "claimed_by=NULL, claimed_at=NULL, waiting_since=$2, triage_done=true, reminder_due=$3, "
            "notified_position=NULL, card_version=card_version+1 WHERE case_id=$1 AND departure='dormant'",
            case_id,
            now,
            reminder_due,
        )

    async def cards_to_show(self) -> list[QueueCase]:
        return await self._many(
            "SELECT * FROM queue_case "
            "WHERE card_version > card_shown OR (card_txn IS NOT NULL AND card_event_id IS NULL)"
        )

    async def card_enqueued(self, case_id: str, txn_id: str, version: int) -> None:
        await self.db.execute(
            "UPDATE queue_case SET card_txn=$2, card_shown=$3 WHERE case_id=$1 AND card_txn IS NULL",
            case_id,
            txn_id,
            version,
        )

    async def repost_live_cards(self) -> int:
        """Every card of a case waiting or claimed is posted again (the old one redacted after);
        how many."""
        rows = await self.db.fetch(
            "UPDATE queue_case SET card_replaced=card_event_id, card_txn=NULL, card_event_id=NULL, card_shown=0 "
            "WHERE stage IN ('waiting', 'claimed') AND card_event_id IS NOT NULL RETURNING case_id"
        )
        return len(rows)

    async def replaced_cards(self) -> list[tuple[str, EventID]]:
        """Old cards to redact: their case's new card has been sent."""
        rows = await self.db.fetch(
            "SELECT case_id, card_replaced FROM queue_case "
            "WHERE card_replaced IS NOT NULL AND card_event_id IS NOT NULL"
        )
        return [(row["case_id"], EventID(row["card_replaced"])) for row in rows]

    async def replaced_redacted(self, case_id: str) -> None:
        await self.db.execute("UPDATE queue_case SET card_replaced=NULL WHERE case_id=$1", case_id)

    async def card_sent(self, case_id: str, event_id: EventID) -> None:
        await self.db.execute("UPDATE queue_case SET card_event_id=$2 WHERE case_id=$1", case_id, event_id)

    async def card_edited(self, case_id: str, version: int) -> None:
        await self.db.execute(
            "UPDATE queue_case SET card_shown=$2 WHERE case_id=$1 AND card_shown < $2", case_id, version
        )

    async def access_to_apply(self) -> list[QueueCase]:
        return await self._many(
            "SELECT * FROM queue_case WHERE COALESCE(claimed_by, '') <> COALESCE(room_counsellor, '')"
        )

    async def access_applied(self, case_id: str, counsellor: UserID | None) -> None:
        await self.db.execute("UPDATE queue_case SET room_counsellor=$2 WHERE case_id=$1", case_id, counsellor)

    async def space_to_apply(self) -> list[QueueCase]:
        return await self._many("SELECT * FROM queue_case WHERE (stage IN ('waiting', 'claimed')) <> space_linked")

    async def space_applied(self, case_id: str, linked: bool) -> None:
        await self.db.execute("UPDATE queue_case SET space_linked=$2 WHERE case_id=$1", case_id, linked)

    async def due_reminders(self, now: int) -> list[QueueCase]:
        return await self._many(
            "SELECT * FROM queue_case WHERE stage='waiting' AND reminder_due IS NOT NULL AND reminder_due <= $1 "
            "ORDER BY reminder_due",
            now,
        )

    async def next_reminder(self, case_id: str, due: int, next_due: int) -> bool:
        """Move a fired reminder to its next due time; False if another run already did."""
        row = await self.db.fetchrow(
            "UPDATE queue_case SET reminder_due=$3, reminders_sent=reminders_sent+1 "
            "WHERE case_id=$1 AND reminder_due=$2 RETURNING case_id",
            case_id,
            due,
            next_due,
        )
        return row is not None

    async def set_reminder(self, case_id: str, due: int | None) -> None:
        await self.db.execute("UPDATE queue_case SET reminder_due=$2 WHERE case_id=$1", case_id, due)

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

    async def to_erase(self, reasons: tuple[str, ...], closed_before: int) -> list[str]:
        """Cases closed for one of ``reasons`` before ``closed_before`` whose visitor is not erased yet.

        Not while a handover of the case is live: the visitor is still in the handover room.
        """
        marks = ", ".join(f"${i}" for i in range(2, len(reasons) + 2))
        rows = await self.db.fetch(
            "SELECT id FROM visitor_case WHERE state = 'closed' AND erased_at IS NULL AND visitor IS NOT NULL "  # noqa: S608 - placeholders only
            f"AND closed_at <= $1 AND close_reason IN ({marks}) AND NOT EXISTS (SELECT 1 FROM handover h "
            "WHERE h.case_id = visitor_case.id AND h.stage IN ('consented', 'accepted')) ORDER BY closed_at",
            closed_before,
            *reasons,
        )
        return [row["id"] for row in rows]

    async def notified(self, case_id: str, position: int | None, now: int) -> None:
        await self.db.execute(
            "UPDATE queue_case SET notified_position=$2, notified_at=$3 WHERE case_id=$1", case_id, position, now
        )

    async def closed_notice(self, case_id: str, now: int | None) -> None:
        await self.db.execute("UPDATE queue_case SET closed_notice_at=$2 WHERE case_id=$1", case_id, now)

    async def reset_closed_notices(self) -> None:
        await self.db.execute("UPDATE queue_case SET closed_notice_at=NULL WHERE closed_notice_at IS NOT NULL")

    async def forget_case(self, case_id: str) -> None:
        """Delete the case's queue row and triage answers: part of its purge."""
        await self.db.execute("DELETE FROM triage_answer WHERE case_id=$1", case_id)
        await self.db.execute("DELETE FROM queue_case WHERE case_id=$1", case_id)
