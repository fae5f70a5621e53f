"""Which cases the queue's timers and reconcilers must act on, read beside the case record.

Selections only (nothing here writes): chats a timer closes (silent, left, idle), cases the
visitor ended or came back to through the API, and visitors due to be erased after a close.
"""

from __future__ import annotations

from typing import Any

from mautrix.util.async_db import Database

from bots.db.queue.workflow import COLUMNS, Stage, Workflow

QUALIFIED = ", ".join(f"q.{column.strip()}" for column in COLUMNS.split(","))


class DueStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def _many(self, query: str, *args: Any) -> list[Workflow]:
        return [Workflow.from_row(row) for row in await self.db.fetch(query, *args)]

    # The lifecycle's timers (the case record knows who last wrote)

    async def silent(self, stage: Stage, visitor_wrote_before: int) -> list[Workflow]:
        """Open cases in ``stage`` whose visitor last wrote (or was greeted) before the time."""
        return await self._many(
            f"SELECT {QUALIFIED} FROM queue_case q JOIN visitor_case c ON c.id = q.case_id WHERE q.stage = $1 "  # noqa: S608 - fixed columns
            "AND c.state = 'open' AND COALESCE(c.last_visitor_at, c.greeted_at) <= $2",
            stage,
            visitor_wrote_before,
        )

    async def left_unclosed(self) -> list[Workflow]:
        """Cases the visitor left before anyone claimed them, whose case record is still open."""
        return await self._many(
            f"SELECT {QUALIFIED} FROM queue_case q JOIN visitor_case c ON c.id = q.case_id "  # noqa: S608 - fixed columns
            "WHERE q.stage = 'closed' AND q.departure = 'left' AND c.state = 'open'"
        )

    async def idle(self, written_before: int) -> list[Workflow]:
        """Claimed open chats where nobody wrote since the time, and no handover is live."""
        return await self._many(
            f"SELECT {QUALIFIED} FROM queue_case q JOIN visitor_case c ON c.id = q.case_id WHERE q.stage = 'claimed' "  # noqa: S608 - fixed columns
            "AND c.state = 'open' AND COALESCE(c.last_message_at, q.claimed_at) <= $1 "
            "AND NOT EXISTS (SELECT 1 FROM handover h WHERE h.case_id = q.case_id "
            "AND h.stage IN ('consented', 'accepted'))",
            written_before,
        )

    # Departures and returns through the session API

    async def ended_by_visitor(self) -> list[tuple[str, str]]:
        """Cases the visitor ended through the session API that the queue has not caught up with."""
        rows = await self.db.fetch(
            "SELECT q.case_id, c.close_reason FROM queue_case q JOIN visitor_case c ON c.id = q.case_id "
            "WHERE q.stage IN ('triage', 'waiting', 'claimed') AND q.departure IS NULL "
            "AND c.state IN ('closed', 'dormant') "
            "AND c.close_reason IN ('ended', 'quick_exit', 'dormant', 'dormant_quick_exit', 'async')"
        )
        return [(row["case_id"], row["close_reason"]) for row in rows]

    async def returned(self) -> list[Workflow]:
        """Cases that went dormant and whose visitor came back (the case is open again)."""
        return await self._many(
            f"SELECT {QUALIFIED} FROM queue_case q JOIN visitor_case c ON c.id = q.case_id "  # noqa: S608 - fixed columns
            "WHERE q.departure IN ('dormant', 'dormant_quick_exit', 'async') AND c.state = 'open'"
        )

    # Erasing a visitor a while after the close

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
