"""One-time tickets for the visitor's verdict: only a hash of each, and when it expires.

The ticket travels to the visitor's chat inside the (encrypted) message that a counsellor joins;
the widget sends it back with the answers. Nothing here names a case, a visitor or a room, so
the answers, counted per day in the transaction that uses the ticket up, lead to no chat.
"""

from __future__ import annotations

from mautrix.util.async_db import Database


class FeedbackTicketStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(self, ticket_hash: str, expires_at: int) -> None:
        await self.db.execute(
            "INSERT INTO feedback_ticket (ticket_hash, expires_at) VALUES ($1, $2)", ticket_hash, expires_at
        )

    async def use(self, ticket_hash: str, now: int) -> bool:
        """Use the ticket up; False when it is unknown, used or expired."""
        row = await self.db.fetchrow(
            "DELETE FROM feedback_ticket WHERE ticket_hash=$1 AND expires_at > $2 RETURNING ticket_hash",
            ticket_hash,
            now,
        )
        return row is not None

    async def sweep(self, now: int) -> int:
        """Delete expired tickets; how many."""
        rows = await self.db.fetch("DELETE FROM feedback_ticket WHERE expires_at <= $1 RETURNING ticket_hash", now)
        return len(rows)
