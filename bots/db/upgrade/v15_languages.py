"""v15: the languages a counsellor speaks, and the language notice to a waiting visitor."""

from __future__ import annotations

from mautrix.util.async_db import Connection

DESCRIPTION = "Staff languages and the visitor's language notice"


async def upgrade(conn: Connection) -> None:
    """v15: routing by language (issue 26).

    ``staff`` gets the languages a member speaks (``languages``: language codes separated by
    commas, e.g. ``nl,en,pl``; NULL: Dutch and English, as every existing member works in those).

    ``queue_case`` gets when the visitor was told that nobody on shift speaks their language and
    offered Dutch or English (``language_notice_at``; NULL: not told). The row goes at the purge.
    """
    await conn.execute("ALTER TABLE staff ADD COLUMN languages TEXT")
    await conn.execute("ALTER TABLE queue_case ADD COLUMN language_notice_at BIGINT")
