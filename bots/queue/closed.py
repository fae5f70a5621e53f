"""What a visitor reads when the chat is closed: when it opens, the emergency numbers, the portal."""

from __future__ import annotations

from datetime import datetime

from bots.texts import Language, text
from bots.texts.moments import phrase
from keerpunt.base.hours import OpeningHours


def closed_text(language: Language, hours: OpeningHours, now: datetime, portal: str) -> str:
    """We are closed: when we open again, the emergency numbers, the portal."""
    opening = hours.next_opening(now)
    opens = phrase(language, opening, now) if opening is not None else ""
    return text(language, "queue.visitor.hours_closed", opens=opens, portal=portal)
