"""The counsellors' availability as staff read it (``!queue``, the staff Space). Text from the
catalogue (``counsellors.*``); names are staff Matrix IDs, never a visitor's anything."""

from __future__ import annotations

from collections.abc import Sequence

from bots.counsellors.availability import Load, counts
from bots.texts import Language, text


def roster_lines(loads: Sequence[Load], language: Language) -> list[str]:
    """One line per counsellor: available, busy (n/max) or on a break; nothing without any."""
    if not loads:
        return []
    lines = [text(language, "counsellors.roster.header")]
    for load in loads:
        lines.append(
            text(
                language,
                f"counsellors.roster.{load.status}",
                user=load.user,
                chats=load.chats,
                capacity=load.capacity,
            )
        )
    return lines


def space_topic(loads: Sequence[Load], language: Language) -> str:
    """The staff Space's topic: how many are available, busy or on a break (counts, no names:
    a state event is kept in the clear, and a log of who took a break when is no one's business)."""
    found = counts(loads)
    return text(language, "counsellors.space_topic", **found)
