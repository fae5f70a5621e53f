"""v12: a return code that survives a failed login and a 4S key the bots take part in."""

from __future__ import annotations

from mautrix.util.async_db import Connection

DESCRIPTION = "Return codes: the return waits for the new device; keyed secret storage"


async def upgrade(conn: Connection) -> None:
    """v12 (issue 23, review N3 and N9; docs/return-code.md).

    - ``returned_at``: when the code was used for a return. The row stays until the returning
      visitor's new device exists (or a new code replaces it), so that a login Synapse refuses
      (its rate limit, a network error) does not lose the case: the same code and word bring
      the visitor back again meanwhile.
    - ``kept_device``: the dehydrated device kept when the case went dormant (a device ID of the
      visitor's own, random), so that the bots can tell the returning device from it.
    - ``keyed``: the code's secret-storage key mixes in a value only the bots can make (an HMAC
      under their return-code key), given out only after the verifier was checked. Codes made
      before this step are not keyed; they work as before until used or expired.
    """
    await conn.execute("ALTER TABLE return_code ADD COLUMN returned_at BIGINT")
    await conn.execute("ALTER TABLE return_code ADD COLUMN kept_device TEXT")
    await conn.execute("ALTER TABLE return_code ADD COLUMN keyed BOOLEAN NOT NULL DEFAULT false")
