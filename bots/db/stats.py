"""The statistics: (Europe/Amsterdam day, measure, dimension, count) and nothing else.

No case ID, Matrix ID, room, time of day or free text ever reaches this table, so no row can
be joined back to a case (SECURITY.md F.27). Counts are added in the transaction that marks
the case event they come from as counted (``bots.stats``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mautrix.util.async_db import Database


@dataclass(frozen=True)
class StatCount:
    day: str
    measure: str
    dimension: str
    count: int

    @classmethod
    def from_row(cls, row: Any) -> StatCount:
        return cls(row["day"], row["measure"], row["dimension"], int(row["count"]))


class StatStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(self, day: str, measure: str, dimension: str, count: int = 1) -> None:
        await self.db.execute(
            "INSERT INTO stat_count (day, measure, dimension, count) VALUES ($1, $2, $3, $4) "
            "ON CONFLICT (day, measure, dimension) DO UPDATE SET count = stat_count.count + excluded.count",
            day,
            measure,
            dimension,
            count,
        )

    async def between(self, first: str, last: str) -> list[StatCount]:
        """Every count from day ``first`` to day ``last`` (both YYYY-MM-DD, both included)."""
        rows = await self.db.fetch(
            "SELECT * FROM stat_count WHERE day >= $1 AND day <= $2 ORDER BY day, measure, dimension", first, last
        )
        return [StatCount.from_row(row) for row in rows]
