"""The latest revision at once, for a new database: what steps v1 to v11 make, in one go.

An existing database takes the steps from its version on; a new one takes this instead of all
of them (mautrix-telegram's ``v00_latest_revision``). ``tests/unit/test_upgrades.py`` proves it
equal, table by table, column by column and index by index, to the steps run one by one. Why
each table and column exists is said in the step that made it (``vNN_*.py``).

Adding a step needs no change here: a new database runs this, then the steps after
``REVISION``. Folding a step in means raising ``REVISION`` and adding what it makes below.
"""

from __future__ import annotations

from mautrix.util.async_db import Connection

REVISION = 11
DESCRIPTION = f"The latest revision (v{REVISION}) for a new database"

STATEMENTS = (
    # v1, v9: staff and the bot's own rooms
    """CREATE TABLE system_room (
        kind    TEXT PRIMARY KEY,
        room_id TEXT NOT NULL UNIQUE
    )""",
    """CREATE TABLE staff (
        user_id      TEXT PRIMARY KEY,
        role         TEXT NOT NULL,
        partner_id   TEXT,
        added_at     BIGINT NOT NULL,
        organisation TEXT,
        on_duty      BOOLEAN NOT NULL DEFAULT true
    )""",
    # v2, v6, v9, v11: visitor cases
    """CREATE TABLE visitor_case (
        id              TEXT PRIMARY KEY,
        number          TEXT NOT NULL,
        state           TEXT NOT NULL,
        language        TEXT NOT NULL,
        entry           TEXT NOT NULL,
        campaign        TEXT,
        invite          TEXT,
        visitor         TEXT UNIQUE,
        room_id         TEXT UNIQUE,
        created_at      BIGINT NOT NULL,
        opened_at       BIGINT,
        greeted_at      BIGINT,
        closed_at       BIGINT,
        close_reason    TEXT,
        erased_at       BIGINT,
        purge_after     BIGINT,
        purged_at       BIGINT,
        last_visitor_at BIGINT,
        last_message_at BIGINT,
        idle_warned_at  BIGINT,
        routed_to       TEXT,
        dormant_at      BIGINT,
        returned_at     BIGINT
    )""",
    "CREATE INDEX visitor_case_state ON visitor_case (state)",
    "CREATE INDEX visitor_case_number ON visitor_case (number)",
    "CREATE INDEX visitor_case_to_erase ON visitor_case (closed_at) "
    "WHERE state = 'closed' AND erased_at IS NULL AND visitor IS NOT NULL",
    "CREATE UNIQUE INDEX visitor_case_open_number ON visitor_case (number) "
    "WHERE state IN ('creating', 'open', 'dormant')",
    # v2, v6, v7: the bot's sync state, handled and pending events, the outbox, identity pins
    """CREATE TABLE bot_state (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    )""",
    """CREATE TABLE handled_event (
        event_id   TEXT PRIMARY KEY,
        room_id    TEXT NOT NULL,
        outcome    TEXT NOT NULL,
        handled_at BIGINT NOT NULL
    )""",
    "CREATE INDEX handled_event_room ON handled_event (room_id)",
    """CREATE TABLE pending_event (
        event_id   TEXT PRIMARY KEY,
        room_id    TEXT NOT NULL,
        source     TEXT NOT NULL,
        first_seen BIGINT NOT NULL
    )""",
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
        sent_at    BIGINT,
        case_id    TEXT
    )""",
    "CREATE INDEX outbox_state ON outbox (state, seq)",
    "CREATE INDEX outbox_case ON outbox (case_id) WHERE case_id IS NOT NULL",
    """CREATE TABLE pinned_identity (
        user_id          TEXT PRIMARY KEY,
        master_key       TEXT NOT NULL,
        pinned_at        BIGINT NOT NULL,
        announced_master TEXT
    )""",
    # v3, v4, v8: the queue
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
        closed_notice_at  BIGINT,
        card_replaced     TEXT
    )""",
    "CREATE INDEX queue_case_stage ON queue_case (stage)",
    "CREATE INDEX queue_case_card_todo ON queue_case (case_id) "
    "WHERE card_version > card_shown OR (card_txn IS NOT NULL AND card_event_id IS NULL)",
    "CREATE INDEX queue_case_access_todo ON queue_case (case_id) "
    "WHERE COALESCE(claimed_by, '') <> COALESCE(room_counsellor, '')",
    "CREATE INDEX queue_case_space_todo ON queue_case (case_id) "
    "WHERE (stage IN ('waiting', 'claimed')) <> space_linked",
    "CREATE INDEX queue_case_handled ON queue_case (closed_at) WHERE stage = 'closed' AND claimed_at IS NOT NULL",
    """CREATE TABLE triage_answer (
        case_id     TEXT NOT NULL REFERENCES visitor_case (id),
        question    TEXT NOT NULL,
        option_id   TEXT NOT NULL,
        answered_at BIGINT NOT NULL,
        PRIMARY KEY (case_id, question)
    )""",
    """CREATE TABLE case_event (
        seq         BIGINT PRIMARY KEY,
        case_id     TEXT NOT NULL REFERENCES visitor_case (id),
        happened_at BIGINT NOT NULL,
        kind        TEXT NOT NULL,
        actor       TEXT,
        detail      TEXT,
        counted     BOOLEAN NOT NULL DEFAULT false
    )""",
    "CREATE INDEX case_event_case ON case_event (case_id, seq)",
    "CREATE INDEX case_event_uncounted ON case_event (seq) WHERE NOT counted",
    """CREATE TABLE staff_post (
        seq        BIGINT PRIMARY KEY,
        case_id    TEXT NOT NULL REFERENCES visitor_case (id),
        relation   TEXT NOT NULL,
        content    TEXT,
        created_at BIGINT NOT NULL,
        txn_id     TEXT
    )""",
    "CREATE INDEX staff_post_case ON staff_post (case_id, seq)",
    # v5: warm handovers
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
    )""",
    "CREATE UNIQUE INDEX handover_one_asked ON handover (case_id) WHERE stage = 'asked'",
    "CREATE INDEX handover_case ON handover (case_id)",
    "CREATE INDEX handover_room_todo ON handover (consented_at) WHERE consented_at IS NOT NULL AND posted_at IS NULL",
    "CREATE INDEX handover_reminder ON handover (reminder_due) WHERE reminder_due IS NOT NULL",
    "CREATE INDEX handover_to_remove ON handover (id) "
    "WHERE stage = 'refused' AND room_id IS NOT NULL AND removed_at IS NULL",
    # v6, v8: statistics, staff-room traces, staff devices the live cards reached
    """CREATE TABLE stat_count (
        day       TEXT NOT NULL,
        measure   TEXT NOT NULL,
        dimension TEXT NOT NULL,
        count     BIGINT NOT NULL,
        PRIMARY KEY (day, measure, dimension)
    )""",
    """CREATE TABLE case_trace (
        event_id TEXT PRIMARY KEY,
        case_id  TEXT NOT NULL,
        room_id  TEXT NOT NULL
    )""",
    "CREATE INDEX case_trace_case ON case_trace (case_id)",
    """CREATE TABLE staff_device (
        user_id   TEXT NOT NULL,
        device_id TEXT NOT NULL,
        PRIMARY KEY (user_id, device_id)
    )""",
    # v9: outreach invites
    """CREATE TABLE outreach_invite (
        code_hash  TEXT PRIMARY KEY,
        worker     TEXT NOT NULL,
        campaign   TEXT,
        article    TEXT,
        created_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL
    )""",
    "CREATE INDEX outreach_invite_worker ON outreach_invite (worker, created_at)",
    # v10: ready sessions
    """CREATE TABLE ready_session (
        id         TEXT PRIMARY KEY,
        state      TEXT NOT NULL,
        visitor    TEXT NOT NULL UNIQUE,
        room_id    TEXT UNIQUE,
        language   TEXT NOT NULL,
        created_at BIGINT NOT NULL
    )""",
    "CREATE INDEX ready_session_state ON ready_session (state, created_at)",
    # v11: return codes
    """CREATE TABLE return_code (
        case_id       TEXT PRIMARY KEY,
        lookup_hash   TEXT NOT NULL UNIQUE,
        verifier_hash TEXT NOT NULL,
        made_at       BIGINT NOT NULL,
        expires_at    BIGINT,
        wrong         INTEGER NOT NULL DEFAULT 0
    )""",
    "CREATE INDEX return_code_expires ON return_code (expires_at)",
)


async def upgrade(conn: Connection) -> None:
    for statement in STATEMENTS:
        await conn.execute(statement)
