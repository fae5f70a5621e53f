"""What staff call each triage question (on the case card, in the statistics report)."""

from __future__ import annotations

from bots.texts import Language, catalogue, text


def field_name(language: Language, question_id: str) -> str:
    """The question's short name, or its id when it has none."""
    key = f"triage.fields.{question_id}"
    return text(language, key) if key in catalogue(language) else question_id
