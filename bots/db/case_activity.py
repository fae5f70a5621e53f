"""Who last wrote in a case room, and whether the counsellor was warned about an idle chat:
what the lifecycle's timers read (SECURITY.md G.29: every case ends). Columns of
``visitor_case``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mautrix.util.async_db import Database

from bots.db.case import Case


@dataclass(frozen=True)
class Activity:
    case_id: str
    last_visitor_at: int | None
    last_message_at: int | None
    idle_warned_at: int | None

    @classmethod
    def from_row(cls, row: Any) -> Activity:
        return cls(row["id"], row["last_visitor_at"], row["last_message_at"], row["idle_warned_at"])


class ActivityStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, case_id: str) -> Activity | None:
        row = await self.db.fetchrow(
            "SELECT id, last_visitor_at, last_message_at, idle_warned_at FROM visitor_case WHERE id=$1", case_id
        )
        return Activity.from_row(row) if row else None

    async def wrote(self, case_id: str, now: int, *, visitor: bool) -> None:
        """Someone wrote in the case room (the visitor, when ``visitor``); a new message ends an
        idle warning."""
        if visitor:
            await self.db.execute(
                "UPDATE visitor_case SET last_visitor_at=$2, last_message_at=$2, idle_warned_at=NULL WHERE id=$1",
                case_id,
                now,
            )
        else:
            await self.db.execute(
                "UPDATE visitor_case SET last_message_at=$2, idle_warned_at=NULL WHERE id=$1", case_id, now
            )

    async def never_wrote(self, opened_before: int) -> list[Case]:
        """Open cases whose visitor's widget never sent its first event."""
        rows = await self.db.fetch(
            "SELECT * FROM visitor_case WHERE state='open' AND greeted_at IS NULL AND opened_at <= $1", opened_before
        )
        return [Case.from_row(row) for row in rows]

    async def idle_warned(self, case_id: str, warned_at: int) -> bool:
        row = await self.db.fetchrow(
            "UPDATE visitor_case SET idle_warned_at=$2 WHERE id=$1 AND idle_warned_at IS NULL RETURNING id",
            case_id,
            warned_at,
        )
        return row is not None
