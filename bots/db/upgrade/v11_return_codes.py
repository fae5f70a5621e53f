"""v11: return codes and dormant cases."""

from __future__ import annotations

from mautrix.util.async_db import Connection

DESCRIPTION = "Return codes and dormant cases"


async def upgrade(conn: Connection) -> None:
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
