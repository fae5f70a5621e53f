"""v5: warm handovers."""

from __future__ import annotations

from mautrix.util.async_db import Connection

DESCRIPTION = "Warm handovers"


async def upgrade(conn: Connection) -> None:
    """v5: warm handovers (docs/handover.md).

    One row per ``!handover``. The consent (``consented_at`` with the summary's hash) is the
    idempotency key of the handover room: every later step records itself before the next
    starts, so the handover worker can finish whatever a crash interrupted, once. The summary
    text is kept only until it is queued for the handover room (or the visitor says no).
    """
    await conn.execute(
        """CREATE TABLE handover (
            id           TEXT PRIMARY KEY,
            case_id      TEXT NOT NULL REFERENCES visitor_case (id),
            partner_id   TEXT NOT NULL,
            counsellor   TEXT NOT NULL,
            stage        TEXT NOT NULL,
            summary      TEXT,
            summary_hash TEXT NOT NULL,
            asked_at     BIGINT NOT NULL,
            answered_at  BIGINT,
            consented_at BIGINT,
            creating_at  BIGINT,
            room_id      TEXT UNIQUE,
            invited_at   BIGINT,
            posted_at    BIGINT,
            accepted_by  TEXT,
            accepted_at  BIGINT,
            outcome_at   BIGINT,
            reminder_due BIGINT,
            removed_at   BIGINT,
            purged_at    BIGINT
        )"""
    )
    # At most one open question per case: a new !handover replaces the old one.
    await conn.execute("CREATE UNIQUE INDEX handover_one_asked ON handover (case_id) WHERE stage = 'asked'")
    await conn.execute("CREATE INDEX handover_case ON handover (case_id)")
    await conn.execute(
        "CREATE INDEX handover_room_todo ON handover (consented_at) "
        "WHERE consented_at IS NOT NULL AND posted_at IS NULL"
    )
    await conn.execute("CREATE INDEX handover_reminder ON handover (reminder_due) WHERE reminder_due IS NOT NULL")
    # A partner who declined leaves the room: their staff are removed once (removed_at).
    await conn.execute(
        "CREATE INDEX handover_to_remove ON handover (id) "
        "WHERE stage = 'refused' AND room_id IS NOT NULL AND removed_at IS NULL"
    )
