"""Who may take a chat now, and who a reminder mentions. Pure: loads in, answers out.

A counsellor is *available* (no chats), *busy* (``n/max`` chats) or *on a break*. They may take
a chat while not on a break and below their limit (their own ``!capacity`` or
``queue.max_chats_per_counsellor``). The reminder's recipients are decided here and only here
(``reminder_recipients``): those who speak the visitor's language first (issue 26).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from bots.errors import UserError
from bots.ids import UserID

Status = Literal["available", "busy", "break"]
STATUSES: tuple[Status, ...] = ("available", "busy", "break")


@dataclass(frozen=True)
class Load:
    user: UserID
    # Chats they hold now (claimed, not closed yet) and the most they may hold.
    chats: int
    capacity: int
    on_break: bool
    # The languages they speak (routing by language).
    languages: tuple[str, ...] = ("nl", "en")

    @property
    def status(self) -> Status:
        if self.on_break:
            return "break"
        return "busy" if self.chats else "available"

    @property
    def full(self) -> bool:
        return self.chats >= self.capacity

    @property
    def may_take(self) -> bool:
        return not self.on_break and not self.full


def refusal(load: Load | None, number: str | None, *, who: str | None = None) -> UserError | None:
    """Why this counsellor may not take chat ``number`` (None: the next one) now; None when they
    may, or are no counsellor. ``who``: they are someone else than the one asking (a transfer)."""
    if load is None:
        return None
    values = {"number": number or "", "who": who or ""}
    if load.on_break:
        return UserError("counsellors.refused.on_break", **values)
    if load.full:
        chats, capacity = str(load.chats), str(load.capacity)
        return UserError("counsellors.refused.at_capacity", chats=chats, capacity=capacity, **values)
    return None


def reminder_recipients(loads: Iterable[Load], *, urgent: bool, language: str | None = None) -> list[UserID]:
    """Who a reminder about a waiting chat mentions: the counsellors who may take it now; for an
    urgent chat nobody may take, every counsellor not on a break (one may end a chat for it).
    Nobody on a break is ever mentioned. With the visitor's ``language``, those who speak it
    come first."""
    working = [load for load in loads if not load.on_break]
    free = [load for load in working if load.may_take]
    chosen = free if free or not urgent else working
    return [load.user for load in sorted(chosen, key=lambda load: (language not in load.languages, load.user))]


def speakers(loads: Iterable[Load], language: str) -> list[UserID]:
    """The counsellors on shift (not on a break) who speak ``language``."""
    return sorted(load.user for load in loads if not load.on_break and language in load.languages)


def nobody_there(loads: Sequence[Load]) -> bool:
    """Every counsellor is on a break (with none at all, the platform is still being set up: not
    "nobody there")."""
    return bool(loads) and all(load.on_break for load in loads)


def counts(loads: Iterable[Load]) -> dict[Status, int]:
    found: dict[Status, int] = dict.fromkeys(STATUSES, 0)
    for load in loads:
        found[load.status] += 1
    return found
