"""Every text exists in Dutch and English and renders (command help: tests/core/test_commands.py)."""

from __future__ import annotations

import re

from bots.texts import LANGUAGES, catalogue, text

PLACEHOLDER = re.compile(r"{{\s*(\w+)")


def test_dutch_and_english_have_the_same_keys() -> None:
    nl, en = catalogue("nl"), catalogue("en")
    assert set(nl) - set(en) == set(), "missing in English"
    assert set(en) - set(nl) == set(), "missing in Dutch"


def test_both_languages_use_the_same_placeholders() -> None:
    nl, en = catalogue("nl"), catalogue("en")
    for key in nl:
        assert set(PLACEHOLDER.findall(nl[key])) == set(PLACEHOLDER.findall(en[key])), key


def test_no_text_is_empty() -> None:
    for lang in LANGUAGES:
        for key, value in catalogue(lang).items():
            assert value.strip(), f"{lang}:{key} is empty"


def test_triage_fallback_numbers_the_options() -> None:
    rendered = text("nl", "triage.question", question="Waar gaat het over?", labels=["Drugs", "Geld"])
    assert "1. Drugs" in rendered and "2. Geld" in rendered
