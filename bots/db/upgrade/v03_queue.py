"""v3: queue: case workflow, triage answers, case events, staff posts."""

from __future__ import annotations

from mautrix.util.async_db import Connection

DESCRIPTION = "Queue: case workflow, triage answers, case events, staff posts"


async def upgrade(conn: Connection) -> None:
    # Where each greeted case is in the counsellors' workflow (triage → waiting → claimed →
    # closed), next to visitor_case's session lifecycle. Besides the decided state it keeps
    # what has been applied in Synapse (card, room access, Space link), so the queue worker
    # can finish anything a crash interrupted. No free text, only enumerated values.
    await conn.execute(
        """CREATE TABLE queue_case (
            case_id           TEXT PRIMARY KEY REFERENCES visitor_case (id),
            stage             TEXT NOT NULL,
            urgent            BOOLEAN NOT NULL DEFAULT false,
            triage_index      INTEGER NOT NULL DEFAULT 0,
            triage_reasks     INTEGER NOT NULL DEFAULT 0,
            triage_done       BOOLEAN NOT NULL DEFAULT false,
            greeted_at        BIGINT NOT NULL,
            waiting_since     BIGINT,
            claimed_by        TEXT,
            claimed_at        BIGINT,
            closed_at         BIGINT,
            outcome           TEXT,
            departure         TEXT,
            room_counsellor   TEXT,
            space_linked      BOOLEAN NOT NULL DEFAULT false,
            card_version      INTEGER NOT NULL DEFAULT 0,
            card_shown        INTEGER NOT NULL DEFAULT 0,
            card_txn          TEXT,
            card_event_id     TEXT UNIQUE,
            notified_position INTEGER,
            notified_at       BIGINT,
            reminder_due      BIGINT,
            reminders_sent    INTEGER NOT NULL DEFAULT 0,
            closed_notice_at  BIGINT
        )"""
    )
    await conn.execute("CREATE INDEX queue_case_stage ON queue_case (stage)")
    # The triage answers: option ids from the triage definition, never free text.
    await conn.execute(
        """CREATE TABLE triage_answer (
            case_id     TEXT NOT NULL REFERENCES visitor_case (id),
            question    TEXT NOT NULL,
            option_id   TEXT NOT NULL,
            answered_at BIGINT NOT NULL,
            PRIMARY KEY (case_id, question)
        )"""
    )
    # Every transition of a case, in order (who did what when; enumerated details only).
    await conn.execute(
        """CREATE TABLE case_event (
            seq         BIGINT PRIMARY KEY,
            case_id     TEXT NOT NULL REFERENCES visitor_case (id),
            happened_at BIGINT NOT NULL,
            kind        TEXT NOT NULL,
            actor       TEXT,
            detail      TEXT
        )"""
    )
    await conn.execute("CREATE INDEX case_event_case ON case_event (case_id, seq)")
    # Messages for the queue room that hang under a case card (thread posts, reminders).
    # They wait here until the card has an event ID, then move to the outbox.
    await conn.execute(
        """CREATE TABLE staff_post (
            seq        BIGINT PRIMARY KEY,
            case_id    TEXT NOT NULL REFERENCES visitor_case (id),
            relation   TEXT NOT NULL,
            content    TEXT,
            created_at BIGINT NOT NULL,
            txn_id     TEXT
        )"""
    )
    await conn.execute("CREATE INDEX staff_post_case ON staff_post (case_id, seq)")
