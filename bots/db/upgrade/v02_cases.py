"""v2: visitor cases, sync state, handled events, outbox, identity pins."""

from __future__ import annotations

from mautrix.util.async_db import Connection

DESCRIPTION = "Visitor cases, sync state, handled events, outbox, identity pins"


async def upgrade(conn: Connection) -> None:
    # One row per visitor conversation. Written first (state 'creating') so that a crash
    # while creating the account or room is repaired at the next start. No IP, no token.
    await conn.execute(
        """CREATE TABLE visitor_case (
            id           TEXT PRIMARY KEY,
            number       TEXT NOT NULL,
            state        TEXT NOT NULL,
            language     TEXT NOT NULL,
            entry        TEXT NOT NULL,
            campaign     TEXT,
            invite       TEXT,
            visitor      TEXT UNIQUE,
            room_id      TEXT UNIQUE,
            created_at   BIGINT NOT NULL,
            opened_at    BIGINT,
            greeted_at   BIGINT,
            closed_at    BIGINT,
            close_reason TEXT,
            erased_at    BIGINT,
            purge_after  BIGINT,
            purged_at    BIGINT
        )"""
    )
    # A case number is unique among the cases that are not closed.
    await conn.execute(
        "CREATE UNIQUE INDEX visitor_case_open_number ON visitor_case (number) WHERE state IN ('creating', 'open')"
    )
    await conn.execute("CREATE INDEX visitor_case_state ON visitor_case (state)")
    # Small key/value facts of the bot, e.g. the last fully handled sync token.
    await conn.execute(
        """CREATE TABLE bot_state (
            key   TEXT PRIMARY KEY,
            value TEXT NOT NULL
        )"""
    )
    # Every room event the bots acted on (or deliberately ignored), so a restart never
    # answers twice. Written in the same transaction as the event's effects.
    await conn.execute(
        """CREATE TABLE handled_event (
            event_id   TEXT PRIMARY KEY,
            room_id    TEXT NOT NULL,
            outcome    TEXT NOT NULL,
            handled_at BIGINT NOT NULL
        )"""
    )
    await conn.execute("CREATE INDEX handled_event_room ON handled_event (room_id)")
    # Encrypted events whose room key has not arrived yet; retried after each sync batch.
    await conn.execute(
        """CREATE TABLE pending_event (
            event_id   TEXT PRIMARY KEY,
            room_id    TEXT NOT NULL,
            source     TEXT NOT NULL,
            first_seen BIGINT NOT NULL
        )"""
    )
    # Messages to send, with their transaction ID fixed before the first attempt.
    await conn.execute(
        """CREATE TABLE outbox (
            txn_id     TEXT PRIMARY KEY,
            seq        BIGINT NOT NULL UNIQUE,
            room_id    TEXT NOT NULL,
            event_type TEXT NOT NULL,
            content    TEXT,
            created_at BIGINT NOT NULL,
            attempts   INTEGER NOT NULL DEFAULT 0,
            state      TEXT NOT NULL,
            event_id   TEXT,
            sent_at    BIGINT
        )"""
    )
    await conn.execute("CREATE INDEX outbox_state ON outbox (state, seq)")
    # Trust on first use: the master cross-signing key first seen for each user.
    await conn.execute(
        """CREATE TABLE pinned_identity (
            user_id    TEXT PRIMARY KEY,
            master_key TEXT NOT NULL,
            pinned_at  BIGINT NOT NULL
        )"""
    )
