"""Write now, answered later (docs/write-later.md): columns of ``visitor_case``.

Why the visitor wrote to be answered later (``closed``: the chat was closed; ``long_wait``:
the wait in a live chat was long), when they left the message, when the answer is promised by,
and when a staff member first answered it. The case itself is dormant meanwhile
(``bots.db.dormancy``, ``close_reason = 'async'``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from mautrix.util.async_db import Database

LaterReason = Literal["closed", "long_wait"]
LATER_REASONS: tuple[LaterReason, ...] = ("closed", "long_wait")
# The close reason of a case left to be answered later (``visitor_case.close_reason``).
LATER = "async"


@dataclass(frozen=True)
class Later:
    case_id: str
    reason: LaterReason | None
    left_at: int | None
    answer_due: int | None
    answered_at: int | None
    # When the visitor came back with the code after leaving the message (None: not yet).
    returned_at: int | None

    @property
    def came_back(self) -> bool:
        return self.returned_at is not None and self.left_at is not None and self.returned_at >= self.left_at


class LaterStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, case_id: str) -> Later | None:
        row = await self.db.fetchrow(
            "SELECT id, later_reason, later_at, answer_due, answered_at, returned_at FROM visitor_case WHERE id=$1",
            case_id,
        )
        if row is None:
            return None
        return Later(
            row["id"], row["later_reason"], row["later_at"], row["answer_due"], row["answered_at"], row["returned_at"]
        )

    async def started_closed(self, case_id: str) -> None:
        """The session was started while the chat was closed, to write a message."""
        await self.db.execute("UPDATE visitor_case SET later_reason='closed' WHERE id=$1", case_id)

    async def left(self, case_id: str, reason: LaterReason, now: int, answer_due: int) -> None:
        """The visitor left the message (inside the transaction that makes the case dormant)."""
        await self.db.execute(
            "UPDATE visitor_case SET later_reason=$2, later_at=$3, answer_due=$4, answered_at=NULL WHERE id=$1",
            case_id,
            reason,
            now,
            answer_due,
        )

    async def owe_relay(self, case_id: str, holder: str) -> bool:
        """``holder`` joined the room of a case with a message left for later, and has not had
        the visitor's earlier lines yet: owe them (bots/queue/workers/relay.py)."""
        row = await self.db.fetchrow(
            "UPDATE visitor_case SET relay_to=$2 WHERE id=$1 AND later_at IS NOT NULL "
            "AND COALESCE(relayed_to, '') <> $2 RETURNING id",
            case_id,
            holder,
        )
        return row is not None

    async def relays_owed(self) -> list[tuple[str, str]]:
        rows = await self.db.fetch("SELECT id, relay_to FROM visitor_case WHERE relay_to IS NOT NULL")
        return [(row["id"], row["relay_to"]) for row in rows]

    async def relayed(self, case_id: str, holder: str) -> bool:
        """The relay to ``holder`` is done (or cannot be); False when another round did it."""
        row = await self.db.fetchrow(
            "UPDATE visitor_case SET relay_to=NULL, relayed_to=$2 WHERE id=$1 AND relay_to=$2 RETURNING id",
            case_id,
            holder,
        )
        return row is not None

    async def answered(self, case_id: str, now: int) -> Later | None:
        """A staff member wrote in the room of a case waiting for an answer: from now on it
        lasts as long as its return code (``purge_after`` becomes the code's expiry). The
        case as it is now; None when it was answered before or is not waiting for one."""
        row = await self.db.fetchrow(
            "UPDATE visitor_case SET answered_at=$2, purge_after=COALESCE("
            "(SELECT expires_at FROM return_code WHERE return_code.case_id=$1), purge_after) "
            "WHERE id=$1 AND state='dormant' AND close_reason='async' AND answered_at IS NULL "
            "RETURNING id, later_reason, later_at, answer_due, answered_at, returned_at",
            case_id,
            now,
        )
        if row is None:
            return None
        return Later(
            row["id"], row["later_reason"], row["later_at"], row["answer_due"], row["answered_at"], row["returned_at"]
        )
