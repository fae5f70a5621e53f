"""What staff call each triage question (on the case card, in the statistics report)."""

from __future__ import annotations

from bots.texts import Language, has_text, text


def field_name(language: Language, question_id: str) -> str:
    """The question's short name, or its id when it has none."""
    key = f"triage.fields.{question_id}"
    return text(language, key) if has_text(language, key) else question_id
