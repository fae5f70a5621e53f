"""A case's card in the staff queue room: what has been *applied* in Synapse.

Transitions bump ``card_version`` (``bots.db.queue.workflow``); the card worker posts the card
once (its outbox transaction ID stored before it is sent, so never twice), learns its event ID,
and edits it until ``card_shown`` catches up with the version. A card posted again (for a
counsellor's new session) keeps the one it replaces until that is redacted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mautrix.util.async_db import Database

from bots.db.queue.workflow import Stage
from bots.ids import EventID

COLUMNS = "case_id, stage, waiting_since, card_version, card_shown, card_txn, card_event_id"


@dataclass(frozen=True)
class CardState:
    case_id: str
    # Whether there is (or will ever be) a card: only a case that entered the queue has one.
    stage: Stage
    waiting_since: int | None
    version: int
    shown: int
    txn: str | None
    event_id: EventID | None

    @property
    def never(self) -> bool:
        """The case closed without ever entering the queue: there will never be a card."""
        return self.txn is None and self.waiting_since is None and self.stage == "closed"

    @classmethod
    def from_row(cls, row: Any) -> CardState:
        return cls(
            case_id=row["case_id"],
            stage=row["stage"],
            waiting_since=row["waiting_since"],
            version=row["card_version"],
            shown=row["card_shown"],
            txn=row["card_txn"],
            event_id=EventID(row["card_event_id"]) if row["card_event_id"] else None,
        )


class CardStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, case_id: str) -> CardState | None:
        row = await self.db.fetchrow(f"SELECT {COLUMNS} FROM queue_case WHERE case_id=$1", case_id)  # noqa: S608 - fixed columns
        return CardState.from_row(row) if row else None

    async def case_of(self, event_id: EventID) -> str | None:
        """The case whose card this is: the card now, or one it replaced (a counsellor's new
        session got the cards again; a reply in the old card's thread is still about the case,
        and must be redacted with it)."""
        found = await self.db.fetchval("SELECT case_id FROM queue_case WHERE card_event_id=$1", event_id)
        if found is None:
            found = await self.db.fetchval(
                "SELECT case_id FROM outbox WHERE event_id=$1 AND case_id IS NOT NULL AND content IS NULL "
                "AND event_type='m.room.message' LIMIT 1",
                event_id,
            )
        return str(found) if found else None

    async def to_show(self) -> list[CardState]:
        rows = await self.db.fetch(
            f"SELECT {COLUMNS} FROM queue_case "  # noqa: S608 - fixed columns
            "WHERE card_version > card_shown OR (card_txn IS NOT NULL AND card_event_id IS NULL)"
        )
        return [CardState.from_row(row) for row in rows]

    async def enqueued(self, case_id: str, txn_id: str, version: int) -> None:
        await self.db.execute(
            "UPDATE queue_case SET card_txn=$2, card_shown=$3 WHERE case_id=$1 AND card_txn IS NULL",
            case_id,
            txn_id,
            version,
        )

    async def sent(self, case_id: str, event_id: EventID) -> None:
        await self.db.execute("UPDATE queue_case SET card_event_id=$2 WHERE case_id=$1", case_id, event_id)

    async def edited(self, case_id: str, version: int) -> None:
        await self.db.execute(
            "UPDATE queue_case SET card_shown=$2 WHERE case_id=$1 AND card_shown < $2", case_id, version
        )

    async def repost_live(self) -> int:
        """Every card of a case waiting (a message left for later too) or claimed is posted again
        (the old one redacted after); how many."""
        rows = await self.db.fetch(
            "UPDATE queue_case SET card_replaced=card_event_id, card_txn=NULL, card_event_id=NULL, card_shown=0 "
            "WHERE stage IN ('waiting', 'waiting_async', 'claimed') AND card_event_id IS NOT NULL RETURNING case_id"
        )
        return len(rows)

    async def replaced(self) -> list[tuple[str, EventID]]:
        """Old cards to redact: their case's new card has been sent."""
        rows = await self.db.fetch(
            "SELECT case_id, card_replaced FROM queue_case "
            "WHERE card_replaced IS NOT NULL AND card_event_id IS NOT NULL"
        )
        return [(row["case_id"], EventID(row["card_replaced"])) for row in rows]

    async def replaced_redacted(self, case_id: str) -> None:
        await self.db.execute("UPDATE queue_case SET card_replaced=NULL WHERE case_id=$1", case_id)
