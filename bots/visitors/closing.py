"""Closing a case: the one place a case's record closes, so every close is logged with its
reason (the statistics count close reasons) and gets its purge date."""

from __future__ import annotations

from bots.db import Stores

DAY_MS = 86_400_000

# Why a case closed: the visitor ended it or fled, a counsellor closed it, or a timer did
# (never wrote or went silent: abandoned; left the room: left; an idle chat: timeout).
# A dormant case ends as code_expired or code_wrong (bots.returning.codes), or as
# async_unanswered: a message left to be answered later that nobody answered (docs/write-later.md);
# an abusive or automated chat a counsellor sent away with !dismiss as dismissed (bots.queue.dismiss).
CLOSE_REASONS = (
    "ended", "quick_exit", "counsellor", "abandoned", "left", "timeout", "code_expired", "code_wrong",
    "async_unanswered", "dismissed",
)  # fmt: skip


async def close_case(stores: Stores, case_id: str, reason: str, now: int, case_room_days: int) -> bool:
    """Close an open case (inside the caller's transaction); False when it was not open."""
    assert reason in CLOSE_REASONS, reason
    if not await stores.cases.close(case_id, reason, now, now + case_room_days * DAY_MS):
        return False
    await stores.case_log.add(case_id, "case_closed", now, None, reason)
    return True
