"""Numbered schema upgrade steps. Never edit a released step; add a new one."""

from mautrix.util.async_db import Connection, UpgradeTable

upgrade_table = UpgradeTable(database_name="Keerpunt bots")


async def upgrade_v1(conn: Connection) -> None:
    """v1: staff and system rooms."""
    await conn.execute(
        """CREATE TABLE system_room (
            kind    TEXT PRIMARY KEY,
            room_id TEXT NOT NULL UNIQUE
        )"""
    )
    await conn.execute(
        """CREATE TABLE staff (
            user_id    TEXT PRIMARY KEY,
            role       TEXT NOT NULL,
            partner_id TEXT,
            added_at   BIGINT NOT NULL
        )"""
    )


# mautrix's decorator is untyped; registering by call keeps mypy strict for the steps.
upgrade_table.register(upgrade_v1, description="Staff and system rooms")


async def upgrade_v2(conn: Connection) -> None:
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


upgrade_table.register(upgrade_v2, description="Visitor cases, sync state, handled events, outbox, identity pins")


async def upgrade_v3(conn: Connection) -> None:
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


upgrade_table.register(upgrade_v3, description="Queue: case workflow, triage answers, case events, staff posts")


async def upgrade_v4(conn: Connection) -> None:
    """v4: indexes so the queue worker's scans (every round) stay small as closed cases pile up.

    Each partial index has exactly the condition its query uses, so only cases with work left
    are read, on SQLite and on PostgreSQL alike.
    """
    await conn.execute(
        "CREATE INDEX queue_case_card_todo ON queue_case (case_id) "
        "WHERE card_version > card_shown OR (card_txn IS NOT NULL AND card_event_id IS NULL)"
    )
    await conn.execute(
        "CREATE INDEX queue_case_access_todo ON queue_case (case_id) "
        "WHERE COALESCE(claimed_by, '') <> COALESCE(room_counsellor, '')"
    )
    await conn.execute(
        "CREATE INDEX queue_case_space_todo ON queue_case (case_id) "
        "WHERE (stage IN ('waiting', 'claimed')) <> space_linked"
    )
    await conn.execute(
        "CREATE INDEX queue_case_handled ON queue_case (closed_at) WHERE stage = 'closed' AND claimed_at IS NOT NULL"
    )
    await conn.execute("CREATE INDEX visitor_case_number ON visitor_case (number)")
    await conn.execute(
        "CREATE INDEX visitor_case_to_erase ON visitor_case (closed_at) "
        "WHERE state = 'closed' AND erased_at IS NULL AND visitor IS NOT NULL"
    )


upgrade_table.register(upgrade_v4, description="Indexes for the queue worker's scans")


async def upgrade_v5(conn: Connection) -> None:
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


upgrade_table.register(upgrade_v5, description="Warm handovers")


async def upgrade_v6(conn: Connection) -> None:
    """v6: every case ends, and ends as counts (issue 12).

    - ``visitor_case`` learns when the visitor and anyone last wrote in the case room and when
      the counsellor was warned about an idle chat: the lifecycle's timeouts read them.
    - ``case_event.counted``: the statistics count each case event exactly once, in the same
      transaction that marks it; a case is purged only when all its events are counted.
    - ``stat_count``: the statistics, (Europe/Amsterdam day, measure, dimension, count) and
      nothing else; no row can be joined back to a case.
    - ``outbox.case_id`` and ``case_trace``: the events about a case in staff rooms (the card,
      its edits and thread, notes and replies typed by staff), redacted when it is purged.
    """
    for column in ("last_visitor_at", "last_message_at", "idle_warned_at"):
        await conn.execute(f"ALTER TABLE visitor_case ADD COLUMN {column} BIGINT")
    await conn.execute("ALTER TABLE case_event ADD COLUMN counted BOOLEAN NOT NULL DEFAULT false")
    await conn.execute("CREATE INDEX case_event_uncounted ON case_event (seq) WHERE NOT counted")
    await conn.execute(
        """CREATE TABLE stat_count (
            day       TEXT NOT NULL,
            measure   TEXT NOT NULL,
            dimension TEXT NOT NULL,
            count     BIGINT NOT NULL,
            PRIMARY KEY (day, measure, dimension)
        )"""
    )
    await conn.execute("ALTER TABLE outbox ADD COLUMN case_id TEXT")
    await conn.execute("CREATE INDEX outbox_case ON outbox (case_id) WHERE case_id IS NOT NULL")
    await conn.execute(
        """CREATE TABLE case_trace (
            event_id TEXT PRIMARY KEY,
            case_id  TEXT NOT NULL,
            room_id  TEXT NOT NULL
        )"""
    )
    await conn.execute("CREATE INDEX case_trace_case ON case_trace (case_id)")


upgrade_table.register(upgrade_v6, description="Case lifecycle, statistics, staff-room traces")


async def upgrade_v7(conn: Connection) -> None:
    """v7: the identity change of a staff member is announced in the queue room once per new key."""
    await conn.execute("ALTER TABLE pinned_identity ADD COLUMN announced_master TEXT")


upgrade_table.register(upgrade_v7, description="Announced identity changes")


async def upgrade_v8(conn: Connection) -> None:
    """v8: a new session of a counsellor can read the live cards.

    Element asks only its own devices for lost room keys, so when a staff member's new
    cross-signed device appears the bot posts every live card again (a new event, encrypted for
    the room's devices of now) and redacts the one it replaces (``card_replaced``).
    ``staff_device`` remembers which cross-signed devices of each staff member the live cards
    have reached, so only a device that is really new causes that.
    """
    await conn.execute("ALTER TABLE queue_case ADD COLUMN card_replaced TEXT")
    await conn.execute(
        """CREATE TABLE staff_device (
            user_id   TEXT NOT NULL,
            device_id TEXT NOT NULL,
            PRIMARY KEY (user_id, device_id)
        )"""
    )


upgrade_table.register(upgrade_v8, description="Live cards posted again for a counsellor's new session")


async def upgrade_v9(conn: Connection) -> None:
    """v9: outreach (pillar 2).

    ``outreach_invite`` holds an open invite as a keyed hash of its code only; using, revoking
    or expiring it deletes the row, so nothing links a case to the invite it came from. The case
    keeps only the worker it was routed to (``routed_to``). Cases never keep the code itself:
    the ``invite`` column is emptied and no longer written. Staff get an organisation (a
    partner's outreach workers) and a duty switch.
    """
    await conn.execute(
        """CREATE TABLE outreach_invite (
            code_hash  TEXT PRIMARY KEY,
            worker     TEXT NOT NULL,
            campaign   TEXT,
            article    TEXT,
            created_at BIGINT NOT NULL,
            expires_at BIGINT NOT NULL
        )"""
    )
    await conn.execute("CREATE INDEX outreach_invite_worker ON outreach_invite (worker, created_at)")
    await conn.execute("ALTER TABLE visitor_case ADD COLUMN routed_to TEXT")
    await conn.execute("UPDATE visitor_case SET invite=NULL")
    await conn.execute("ALTER TABLE staff ADD COLUMN organisation TEXT")
    await conn.execute("ALTER TABLE staff ADD COLUMN on_duty BOOLEAN NOT NULL DEFAULT true")


upgrade_table.register(upgrade_v9, description="Outreach invites, routed cases, duty")


async def upgrade_v10(conn: Connection) -> None:
    """v10: ready sessions (bots/sessions/pool.py).

    A visitor account and its case room made ahead of time, before anyone asked: no case, no
    language of a visitor, no token (the account has no device until a visitor claims it).
    The row is written before the account is registered ('making') and gets its room when
    createRoom answered ('ready'), so the start-up repair finds anything a crash left half made.
    Claiming one deletes the row in the transaction that gives the new case its account and
    room. Spare accounts (visitor_case rows in state 'spare') are no longer made; any left from
    before are removed by the same repair.
    """
    await conn.execute(
        """CREATE TABLE ready_session (
            id         TEXT PRIMARY KEY,
            state      TEXT NOT NULL,
            visitor    TEXT NOT NULL UNIQUE,
            room_id    TEXT UNIQUE,
            language   TEXT NOT NULL,
            created_at BIGINT NOT NULL
        )"""
    )
    await conn.execute("CREATE INDEX ready_session_state ON ready_session (state, created_at)")


upgrade_table.register(upgrade_v10, description="Ready sessions")


async def upgrade_v11(conn: Connection) -> None:
    """v11: the anonymous return code (docs/return-code.md).

    ``return_code`` holds, per case, only keyed hashes of the code's lookup value and of its
    verifier, with the times and the wrong second words counted; the row goes when the code is
    used, rotated, expires or the case is erased. A case with a code that the visitor ended is
    ``dormant`` (``dormant_at``) until it returns (``returned_at``) or expires.
    """
    await conn.execute(
        """CREATE TABLE return_code (
            case_id       TEXT PRIMARY KEY,
            lookup_hash   TEXT NOT NULL UNIQUE,
            verifier_hash TEXT NOT NULL,
            made_at       BIGINT NOT NULL,
            expires_at    BIGINT,
            wrong         INTEGER NOT NULL DEFAULT 0
        )"""
    )
    await conn.execute("CREATE INDEX return_code_expires ON return_code (expires_at)")
    await conn.execute("ALTER TABLE visitor_case ADD COLUMN dormant_at BIGINT")
    await conn.execute("ALTER TABLE visitor_case ADD COLUMN returned_at BIGINT")
    # A dormant case keeps its number: a new case must not take it, or the return could not
    # reopen it.
    await conn.execute("DROP INDEX visitor_case_open_number")
    await conn.execute(
        "CREATE UNIQUE INDEX visitor_case_open_number ON visitor_case (number) "
        "WHERE state IN ('creating', 'open', 'dormant')"
    )


upgrade_table.register(upgrade_v11, description="Return codes and dormant cases")
