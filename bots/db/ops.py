"""Operational counts for the metrics endpoint (bots/metrics.py): read-only, no row leaves here.

Only numbers and two ages: how many chats wait (live, or as a message left to be answered
later), live or are queued to send, and how long the longest wait of each kind is. Nothing
identifies a case, a visitor or a room.
"""

from __future__ import annotations

from dataclasses import dataclass

from mautrix.util.async_db import Database


@dataclass(frozen=True)
class OpsCounts:
    waiting: int
    oldest_waiting_since: int | None  # milliseconds since the epoch
    live_cases: int
    outbox_pending: int
    undecryptable: int
    waiting_for_keys: int
    later: int  # messages left to be answered later, not claimed yet
    oldest_later_since: int | None  # milliseconds since the epoch


class OpsStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def counts(self) -> OpsCounts:
        waiting = await self.db.fetchrow(
            "SELECT COUNT(*) AS n, MIN(waiting_since) AS oldest FROM queue_case WHERE stage='waiting'"
        )
        later = await self.db.fetchrow(
            "SELECT COUNT(*) AS n, MIN(waiting_since) AS oldest FROM queue_case WHERE stage='waiting_async'"
        )
        live = await self.db.fetchval("SELECT COUNT(*) FROM visitor_case WHERE state IN ('creating', 'open')")
        outbox = await self.db.fetchval("SELECT COUNT(*) FROM outbox WHERE state='pending'")
        undecryptable = await self.db.fetchval("SELECT COUNT(*) FROM handled_event WHERE outcome='undecryptable'")
        parked = await self.db.fetchval("SELECT COUNT(*) FROM pending_event")
        assert waiting is not None and later is not None  # an aggregate always has one row
        return OpsCounts(
            waiting=int(waiting["n"] or 0),
            oldest_waiting_since=None if waiting["oldest"] is None else int(waiting["oldest"]),
            live_cases=int(live or 0),
            outbox_pending=int(outbox or 0),
            undecryptable=int(undecryptable or 0),
            waiting_for_keys=int(parked or 0),
            later=int(later["n"] or 0),
            oldest_later_since=None if later["oldest"] is None else int(later["oldest"]),
        )
