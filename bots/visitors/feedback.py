"""The visitor's verdict, offered: a one-time ticket and the questions, for the widget to ask
after the chat ends (``feedback.questions``). The ticket is kept only as a SHA-256 hash with its
expiry (rounded to the hour), so the answers it later brings (``bots.feedback``) lead to no case.
It rides in the message that tells the visitor a counsellor is joining: only a chat that had a
counsellor gets one.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from typing import Any

from bots.db import Stores
from keerpunt.base.config.model import FeedbackConfig

FEEDBACK_KEY = "nl.keerpunt.feedback"
HOUR_MS = 3_600_000


def ticket_hash(ticket: str) -> str:
    """A ticket has 128 random bits: a plain hash is enough to keep it unusable from the database."""
    return hashlib.sha256(ticket.encode()).hexdigest()


def questions(feedback: FeedbackConfig) -> list[dict[str, Any]]:
    """The questions as the widget shows them, in every language."""
    return [
        {
            "id": question.id,
            "text": {"nl": question.nl, "en": question.en},
            "answers": [{"id": a.id, "label": {"nl": a.nl, "en": a.en}} for a in question.answers],
        }
        for question in feedback.questions
    ]


async def offer(stores: Stores, feedback: FeedbackConfig, now: int) -> dict[str, Any]:
    """``{FEEDBACK_KEY: {"ticket", "questions"}}`` to add to a visitor message; ``{}`` without
    questions. Inside the caller's transaction."""
    if not feedback.questions:
        return {}
    ticket = secrets.token_urlsafe(16)
    expires = math.ceil((now + feedback.ticket_valid_hours * HOUR_MS) / HOUR_MS) * HOUR_MS
    await stores.feedback.add(ticket_hash(ticket), expires)
    return {FEEDBACK_KEY: {"ticket": ticket, "questions": questions(feedback)}}
