"""v6: case lifecycle, statistics, staff-room traces."""

from __future__ import annotations

from mautrix.util.async_db import Connection

DESCRIPTION = "Case lifecycle, statistics, staff-room traces"


async def upgrade(conn: Connection) -> None:
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
