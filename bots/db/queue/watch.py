"""Open supervision: who reads along in a case's chat (decided), who is in its room for that
(applied), and the message that told the visitor, which must be out before the invite.

Columns of ``queue_case``, so they go with the case at its purge. One reader at a time."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mautrix.util.async_db import Database

from bots.ids import UserID


@dataclass(frozen=True)
class Watch:
    case_id: str
    watched_by: UserID | None
    member: UserID | None
    notice: str | None

    @classmethod
    def from_row(cls, row: Any) -> Watch:
        return cls(
            row["case_id"],
            UserID(row["watched_by"]) if row["watched_by"] else None,
            UserID(row["watch_member"]) if row["watch_member"] else None,
            row["watch_notice"],
        )


COLUMNS = "case_id, watched_by, watch_member, watch_notice"


class WatchStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, case_id: str) -> Watch | None:
        row = await self.db.fetchrow(f"SELECT {COLUMNS} FROM queue_case WHERE case_id=$1", case_id)  # noqa: S608 - fixed columns
        return Watch.from_row(row) if row else None

    async def watch(self, case_id: str, supervisor: UserID, notice: str) -> bool:
        """``supervisor`` reads along from now (the visitor told by the outbox message ``notice``);
        False when someone already does."""
        row = await self.db.fetchrow(
            "UPDATE queue_case SET watched_by=$2, watch_notice=$3 WHERE case_id=$1 AND watched_by IS NULL "
            "RETURNING case_id",
            case_id,
            supervisor,
            notice,
        )
        return row is not None

    async def unwatch(self, case_id: str, supervisor: UserID) -> bool:
        """``supervisor`` no longer reads along; False when they did not."""
        row = await self.db.fetchrow(
            "UPDATE queue_case SET watched_by=NULL, watch_notice=NULL WHERE case_id=$1 AND watched_by=$2 "
            "RETURNING case_id",
            case_id,
            supervisor,
        )
        return row is not None

    async def to_apply(self) -> list[Watch]:
        rows = await self.db.fetch(
            f"SELECT {COLUMNS} FROM queue_case "  # noqa: S608 - fixed columns
            "WHERE COALESCE(watched_by, '') <> COALESCE(watch_member, '')"
        )
        return [Watch.from_row(row) for row in rows]

    async def applied(self, case_id: str, member: UserID | None) -> None:
        await self.db.execute("UPDATE queue_case SET watch_member=$2 WHERE case_id=$1", case_id, member)
