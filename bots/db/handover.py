"""Warm handovers: one row per ``!handover``, from the question to the visitor to the outcome.

Stages: ``asked`` → ``declined`` (the visitor said no) | ``cancelled`` (replaced, or the visitor
left) | ``consented`` (the visitor said yes) → ``accepted`` (the partner confirmed) |
``refused`` (the partner declined) → ``arrived`` | ``failed`` (the counsellor's follow-up).
Transitions are compare-and-set. Besides the stage, the row records each step taken in Synapse
(``creating_at``, ``room_id``, ``invited_at``, ``posted_at``) so the handover worker finishes
a room a crash interrupted instead of making a second one (SECURITY.md item 23); and, after a
partner declined, when its staff were taken out of the room (``removed_at``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from mautrix.util.async_db import Database

from bots.ids import RoomID, UserID

Stage = Literal["asked", "declined", "cancelled", "consented", "accepted", "refused", "arrived", "failed"]
Outcome = Literal["arrived", "failed"]


@dataclass(frozen=True)
class Handover:
    id: str
    case_id: str
    partner_id: str
    counsellor: UserID
    stage: Stage
    summary: str | None
    summary_hash: str
    asked_at: int
    answered_at: int | None
    consented_at: int | None
    creating_at: int | None
    room_id: RoomID | None
    invited_at: int | None
    posted_at: int | None
    accepted_by: UserID | None
    accepted_at: int | None
    outcome_at: int | None
    reminder_due: int | None
    removed_at: int | None
    purged_at: int | None

    @classmethod
    def from_row(cls, row: Any) -> Handover:
        return cls(
            id=row["id"],
            case_id=row["case_id"],
            partner_id=row["partner_id"],
            counsellor=UserID(row["counsellor"]),
            stage=row["stage"],
            summary=row["summary"],
            summary_hash=row["summary_hash"],
            asked_at=row["asked_at"],
            answered_at=row["answered_at"],
            consented_at=row["consented_at"],
            creating_at=row["creating_at"],
            room_id=RoomID(row["room_id"]) if row["room_id"] else None,
            invited_at=row["invited_at"],
            posted_at=row["posted_at"],
            accepted_by=UserID(row["accepted_by"]) if row["accepted_by"] else None,
            accepted_at=row["accepted_at"],
            outcome_at=row["outcome_at"],
            reminder_due=row["reminder_due"],
            removed_at=row["removed_at"],
            purged_at=row["purged_at"],
        )


class HandoverStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def _one(self, query: str, *args: Any) -> Handover | None:
        row = await self.db.fetchrow(query, *args)
        return Handover.from_row(row) if row else None

    async def _many(self, query: str, *args: Any) -> list[Handover]:
        return [Handover.from_row(row) for row in await self.db.fetch(query, *args)]

    # Reading

    async def get(self, handover_id: str) -> Handover | None:
        return await self._one("SELECT * FROM handover WHERE id=$1", handover_id)

    async def by_room(self, room_id: RoomID) -> Handover | None:
        return await self._one("SELECT * FROM handover WHERE room_id=$1", room_id)

    async def asked(self, case_id: str) -> Handover | None:
        return await self._one("SELECT * FROM handover WHERE case_id=$1 AND stage='asked'", case_id)

    async def of_case(self, case_id: str) -> list[Handover]:
        return await self._many("SELECT * FROM handover WHERE case_id=$1 ORDER BY asked_at", case_id)

    async def latest_live(self, case_id: str) -> Handover | None:
        return await self._one(
            "SELECT * FROM handover WHERE case_id=$1 AND stage IN ('consented', 'accepted') "
            "ORDER BY consented_at DESC LIMIT 1",
            case_id,
        )

    async def rooms_to_make(self) -> list[Handover]:
        """Consented handovers whose room is not finished (made, invited, introduced)."""
        return await self._many(
            "SELECT * FROM handover WHERE consented_at IS NOT NULL AND posted_at IS NULL "
            "AND stage IN ('consented', 'accepted') ORDER BY consented_at"
        )

    async def partners_to_remove(self) -> list[Handover]:
        """Declined handovers whose partner staff are still to be taken out of the room.

        Only once the room's queued messages are sent: the partner reads the goodbye first
        (a message sent after the kick would not be encrypted for them).
        """
        return await self._many(
            "SELECT * FROM handover WHERE stage = 'refused' AND room_id IS NOT NULL AND removed_at IS NULL "
            "AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.room_id = handover.room_id AND o.state = 'pending')"
        )

    async def partner_removed(self, handover_id: str, now: int) -> None:
        await self.db.execute("UPDATE handover SET removed_at=$2 WHERE id=$1", handover_id, now)

    async def room_ids(self) -> set[RoomID]:
        rows = await self.db.fetch("SELECT room_id FROM handover WHERE room_id IS NOT NULL")
        return {RoomID(row["room_id"]) for row in rows}

    async def due_reminders(self, now: int) -> list[Handover]:
        return await self._many(
            "SELECT * FROM handover WHERE reminder_due IS NOT NULL AND reminder_due <= $1 ORDER BY reminder_due", now
        )

    async def rooms_of_case(self, case_id: str) -> list[Handover]:
        return await self._many(
            "SELECT * FROM handover WHERE case_id=$1 AND room_id IS NOT NULL AND purged_at IS NULL", case_id
        )

    # Asking and answering

    async def ask(
        self,
        handover_id: str,
        case_id: str,
        partner_id: str,
        counsellor: UserID,
        summary: str,
        summary_hash: str,
        now: int,
    ) -> None:
        """A new question for the visitor; an unanswered earlier one is cancelled (its summary dropped)."""
        await self.db.execute(
            "UPDATE handover SET stage='cancelled', summary=NULL, answered_at=$2 WHERE case_id=$1 AND stage='asked'",
            case_id,
            now,
        )
        await self.db.execute(
            "INSERT INTO handover (id, case_id, partner_id, counsellor, stage, summary, summary_hash, asked_at) "
            "VALUES ($1, $2, $3, $4, 'asked', $5, $6, $7)",
            handover_id,
            case_id,
            partner_id,
            counsellor,
            summary,
            summary_hash,
            now,
        )

    async def consent(self, handover_id: str, now: int, reminder_due: int) -> Handover | None:
        """asked → consented: the record every later step hangs on."""
        return await self._one(
            "UPDATE handover SET stage='consented', answered_at=$2, consented_at=$2, reminder_due=$3 "
            "WHERE id=$1 AND stage='asked' RETURNING *",
            handover_id,
            now,
            reminder_due,
        )

    async def decline(self, handover_id: str, now: int) -> Handover | None:
        """asked → declined; the summary is deleted at once."""
        return await self._one(
            "UPDATE handover SET stage='declined', answered_at=$2, summary=NULL WHERE id=$1 AND stage='asked' "
            "RETURNING *",
            handover_id,
            now,
        )

    async def cancel(self, handover_id: str, now: int) -> Handover | None:
        """asked or consented (no room yet) → cancelled; the summary is deleted."""
        return await self._one(
            "UPDATE handover SET stage='cancelled', summary=NULL, reminder_due=NULL, "
            "answered_at=COALESCE(answered_at, $2) "
            "WHERE id=$1 AND (stage='asked' OR (stage='consented' AND creating_at IS NULL)) RETURNING *",
            handover_id,
            now,
        )

    # The room, step by step

    async def creating(self, handover_id: str, now: int) -> None:
        await self.db.execute(
            "UPDATE handover SET creating_at=$2 WHERE id=$1 AND creating_at IS NULL", handover_id, now
        )

    async def room_made(self, handover_id: str, room_id: RoomID) -> None:
        await self.db.execute("UPDATE handover SET room_id=$2 WHERE id=$1 AND room_id IS NULL", handover_id, room_id)

    async def invited(self, handover_id: str, now: int) -> None:
        await self.db.execute("UPDATE handover SET invited_at=$2 WHERE id=$1", handover_id, now)

    async def posted(self, handover_id: str, now: int) -> None:
        """Introduction and summary are in the outbox: the summary lives there now."""
        await self.db.execute("UPDATE handover SET posted_at=$2, summary=NULL WHERE id=$1", handover_id, now)

    # Follow-up

    async def accept(self, handover_id: str, user: UserID, now: int) -> Handover | None:
        return await self._one(
            "UPDATE handover SET stage='accepted', accepted_by=$2, accepted_at=$3 "
            "WHERE id=$1 AND stage='consented' RETURNING *",
            handover_id,
            user,
            now,
        )

    async def refuse(self, handover_id: str, now: int) -> Handover | None:
        return await self._one(
            "UPDATE handover SET stage='refused', outcome_at=$2, reminder_due=NULL "
            "WHERE id=$1 AND stage IN ('consented', 'accepted') RETURNING *",
            handover_id,
            now,
        )

    async def settle(self, handover_id: str, outcome: Outcome, now: int) -> Handover | None:
        return await self._one(
            "UPDATE handover SET stage=$2, outcome_at=$3, reminder_due=NULL "
            "WHERE id=$1 AND stage IN ('consented', 'accepted') RETURNING *",
            handover_id,
            outcome,
            now,
        )

    async def next_reminder(self, handover_id: str, due: int, next_due: int) -> bool:
        """Move the reminder on; False when another round already did (or it was settled)."""
        row = await self.db.fetchrow(
            "UPDATE handover SET reminder_due=$3 WHERE id=$1 AND reminder_due=$2 RETURNING id",
            handover_id,
            due,
            next_due,
        )
        return row is not None

    async def mark_purged(self, handover_id: str, now: int) -> None:
        await self.db.execute("UPDATE handover SET purged_at=$2, reminder_due=NULL WHERE id=$1", handover_id, now)

    async def forget_case(self, case_id: str) -> None:
        """Delete the case's handover records: part of its purge."""
        await self.db.execute("DELETE FROM handover WHERE case_id=$1", case_id)
