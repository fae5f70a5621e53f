"""Where a case is in the counsellors' workflow: triage → waiting → claimed → closed.

The ``queue_case`` row's workflow columns: the stage, urgency, who holds the case and since
when, and how it ended. Every transition is a compare-and-set on the stage, so two concurrent
claims cannot both win, and every transition bumps the card's version (``bots.db.queue.cards``)
so the card worker edits the card; a transition that settles a case also settles what hangs on
it (no reminder due, the triage over).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from mautrix.util.async_db import Database

from bots.ids import UserID

# 'waiting_async': the visitor left a message and a return code, to be answered later
# (docs/write-later.md); claimed as any waiting case, listed after the live ones.
Stage = Literal["triage", "waiting", "waiting_async", "claimed", "closed"]
# How a case ended without a counsellor's close: the visitor left, ended or fled, or a timer
# closed it (the visitor went silent: abandoned; an idle chat: timeout).
# 'dormant': the visitor ended with a return code and may come back (docs/return-code.md);
# 'dormant_quick_exit': the same after a quick exit (the counsellor is told it was in a hurry).
# 'async': the visitor left a message to be answered later, with a return code.
Departure = Literal["left", "ended", "quick_exit", "abandoned", "timeout", "dormant", "dormant_quick_exit", "async"]
DEPARTURES: tuple[Departure, ...] = ("left", "ended", "quick_exit", "dormant", "dormant_quick_exit", "async")
# Departures the visitor can come back from (with a return code).
RETURNABLE: tuple[Departure, ...] = ("dormant", "dormant_quick_exit", "async")
# Stages a counsellor can claim a case from.
CLAIMABLE: tuple[Stage, ...] = ("waiting", "waiting_async")

COLUMNS = "case_id, stage, urgent, greeted_at, waiting_since, claimed_by, claimed_at, closed_at, outcome, departure"


@dataclass(frozen=True)
class Workflow:
    case_id: str
    stage: Stage
    urgent: bool
    greeted_at: int
    waiting_since: int | None
    claimed_by: UserID | None
    claimed_at: int | None
    closed_at: int | None
    outcome: str | None
    departure: Departure | None

    @property
    def in_queue(self) -> bool:
        return self.stage == "waiting"

    @property
    def claimable(self) -> bool:
        return self.stage in CLAIMABLE

    @property
    def since(self) -> int:
        """When the case started waiting (its place in the queue), or was greeted."""
        return self.waiting_since or self.greeted_at

    @classmethod
    def from_row(cls, row: Any) -> Workflow:
        return cls(
            case_id=row["case_id"],
            stage=row["stage"],
            urgent=bool(row["urgent"]),
            greeted_at=row["greeted_at"],
            waiting_since=row["waiting_since"],
            claimed_by=UserID(row["claimed_by"]) if row["claimed_by"] else None,
            claimed_at=row["claimed_at"],
            closed_at=row["closed_at"],
            outcome=row["outcome"],
            departure=row["departure"],
        )


class WorkflowStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def _one(self, query: str, *args: Any) -> Workflow | None:
        row = await self.db.fetchrow(query, *args)
        return Workflow.from_row(row) if row else None

    async def _many(self, query: str, *args: Any) -> list[Workflow]:
        return [Workflow.from_row(row) for row in await self.db.fetch(query, *args)]

    # Reads

    async def get(self, case_id: str) -> Workflow | None:
        return await self._one(f"SELECT {COLUMNS} FROM queue_case WHERE case_id=$1", case_id)  # noqa: S608 - fixed columns

    async def by_number(self, number: str) -> Workflow | None:
        """The case with this number; an open one wins over closed ones that had it before."""
        columns = ", ".join(f"q.{c.strip()}" for c in COLUMNS.split(","))
        return await self._one(
            f"SELECT {columns} FROM queue_case q JOIN visitor_case c ON c.id = q.case_id WHERE c.number=$1 "  # noqa: S608 - fixed columns
            "ORDER BY CASE WHEN q.stage = 'closed' THEN 1 ELSE 0 END, c.created_at DESC LIMIT 1",
            number,
        )

    async def in_stage(self, *stages: Stage) -> list[Workflow]:
        marks = ", ".join(f"${i}" for i in range(1, len(stages) + 1))
        return await self._many(
            f"SELECT {COLUMNS} FROM queue_case WHERE stage IN ({marks}) ORDER BY greeted_at",  # noqa: S608 - placeholders only
            *stages,
        )

    async def claimed_counts(self) -> dict[UserID, int]:
        """How many chats each counsellor holds (claimed and not closed yet)."""
        rows = await self.db.fetch(
            "SELECT claimed_by, COUNT(*) AS n FROM queue_case WHERE stage='claimed' GROUP BY claimed_by"
        )
        return {UserID(row["claimed_by"]): int(row["n"]) for row in rows if row["claimed_by"]}

    async def claimed_count(self, counsellor: UserID) -> int:
        return int(
            await self.db.fetchval(
                "SELECT COUNT(*) FROM queue_case WHERE stage='claimed' AND claimed_by=$1", counsellor
            )
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

    async def insert(self, case_id: str, now: int) -> None:
        """The case was greeted: its row, in triage."""
        await self.db.execute(
            "INSERT INTO queue_case (case_id, stage, greeted_at) VALUES ($1, 'triage', $2)", case_id, now
        )

    # Transitions: each a compare-and-set; None/False when the case was not in the expected stage.

    async def _transition(self, query: str, *args: Any) -> Workflow | None:
        return await self._one(f"{query} RETURNING {COLUMNS}", *args)

    async def mark_urgent(self, case_id: str) -> None:
        await self.db.execute(
            "UPDATE queue_case SET urgent=true, card_version=card_version+1 WHERE case_id=$1 AND NOT urgent", case_id
        )

    async def enter_queue(self, case_id: str, now: int, reminder_due: int) -> Workflow | None:
        """triage → waiting. ``waiting_since`` is set once: a case re-queued keeps its place."""
        return await self._transition(
            "UPDATE queue_case SET stage='waiting', waiting_since=COALESCE(waiting_since, $2), reminder_due=$3, "
            "card_version=card_version+1 WHERE case_id=$1 AND stage='triage'",
            case_id,
            now,
            reminder_due,
        )

    async def claim(self, case_id: str, counsellor: UserID, now: int) -> Workflow | None:
        """waiting → claimed: exactly one of any number of concurrent claims wins."""
        return await self._transition(
            "UPDATE queue_case SET stage='claimed', claimed_by=$2, claimed_at=$3, triage_done=true, "
            "reminder_due=NULL, card_version=card_version+1 WHERE case_id=$1 AND stage IN ('waiting', 'waiting_async')",
            case_id,
            counsellor,
            now,
        )

    async def route(self, case_id: str, worker: UserID, now: int) -> Workflow | None:
        """triage → claimed by the outreach worker whose invite opened the case. The triage goes
        on (``triage_done`` stays false); ``waiting_since`` makes the card appear."""
        return await self._transition(
            "UPDATE queue_case SET stage='claimed', claimed_by=$2, claimed_at=$3, waiting_since=$3, "
            "reminder_due=NULL, card_version=card_version+1 WHERE case_id=$1 AND stage='triage'",
            case_id,
            worker,
            now,
        )

    async def release(self, case_id: str, counsellor: UserID, reminder_due: int) -> Workflow | None:
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
    ) -> Workflow | None:
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

    async def close(self, case_id: str, counsellor: UserID, outcome: str, now: int) -> Workflow | None:
        return await self._transition(
            "UPDATE queue_case SET stage='closed', outcome=$3, closed_at=$4, reminder_due=NULL, "
            "card_version=card_version+1 WHERE case_id=$1 AND stage='claimed' AND claimed_by=$2",
            case_id,
            counsellor,
            outcome,
            now,
        )

    async def dismiss(self, case_id: str, stage: Stage, holder: UserID | None, now: int) -> Workflow | None:
        """``!dismiss``: closed as ``dismissed`` from ``stage`` (with the same holder, if any)."""
        return await self._transition(
            "UPDATE queue_case SET stage='closed', outcome='dismissed', closed_at=$4, reminder_due=NULL, "
            "triage_done=true, card_version=card_version+1 WHERE case_id=$1 AND stage=$2 "
            "AND COALESCE(claimed_by, '')=$3",
            case_id,
            stage,
            holder or "",
            now,
        )

    async def depart(
        self, case_id: str, departure: Departure, now: int, remind_at: int | None = None
    ) -> Workflow | None:
        """The visitor left. An unclaimed case leaves the queue; a claimed one waits for !close.
        A message left to be answered later (``async``) waits in the queue instead, unclaimed,
        as ``waiting_async`` (its place kept, or taken now), reminded of from ``remind_at``.

        A closed case stays as it was closed (its visitor's account is erased after the close).
        """
        later = departure == "async"
        return await self._transition(
            "UPDATE queue_case SET departure=$2, card_version=card_version+1, "
            "reminder_due=CASE WHEN $5 AND stage IN ('triage', 'waiting') THEN CAST($6 AS BIGINT) ELSE NULL END, "
            "stage=CASE WHEN stage IN ('triage', 'waiting') THEN $4 ELSE stage END, "
            "closed_at=CASE WHEN stage IN ('triage', 'waiting') AND NOT $5 THEN $3 ELSE closed_at END, "
            "waiting_since=CASE WHEN $5 THEN COALESCE(waiting_since, $3) ELSE waiting_since END, "
            "triage_done=true WHERE case_id=$1 AND departure IS NULL AND stage <> 'closed'",
            case_id,
            departure,
            now,
            "waiting_async" if later else "closed",
            later,
            remind_at,
        )

    async def expire(self, case_id: str, departure: Departure, now: int) -> Workflow | None:
        """A timer closed the case (whatever its stage); None when it was closed before."""
        return await self._transition(
            "UPDATE queue_case SET stage='closed', departure=COALESCE(departure, $2), closed_at=$3, "
            "reminder_due=NULL, triage_done=true, card_version=card_version+1 "
            "WHERE case_id=$1 AND stage <> 'closed'",
            case_id,
            departure,
            now,
        )

    # The return code (docs/return-code.md)

    async def back_to(self, case_id: str, counsellor: UserID) -> Workflow | None:
        """A returned case goes straight back to the counsellor who had it."""
        return await self._transition(
            "UPDATE queue_case SET stage='claimed', departure=NULL, outcome=NULL, closed_at=NULL, "
            "triage_done=true, reminder_due=NULL, card_version=card_version+1 "
            "WHERE case_id=$1 AND departure IN ('dormant', 'dormant_quick_exit', 'async') AND claimed_by=$2",
            case_id,
            counsellor,
        )

    async def requeue(self, case_id: str, now: int, reminder_due: int) -> Workflow | None:
        """A returned case whose counsellor is not there waits in the queue again, from now."""
        return await self._transition(
            "UPDATE queue_case SET stage='waiting', departure=NULL, outcome=NULL, closed_at=NULL, "
            "claimed_by=NULL, claimed_at=NULL, waiting_since=$2, triage_done=true, reminder_due=$3, "
            "notified_position=NULL, card_version=card_version+1 "
            "WHERE case_id=$1 AND departure IN ('dormant', 'dormant_quick_exit', 'async')",
            case_id,
            now,
            reminder_due,
        )

    async def forget_case(self, case_id: str) -> None:
        """Delete the case's row: part of its purge."""
        await self.db.execute("DELETE FROM queue_case WHERE case_id=$1", case_id)
