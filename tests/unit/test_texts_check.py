"""Visitor texts in seven languages (issue 26): complete, marked unreviewed, and checked."""

from __future__ import annotations

import re

import pytest

import keerpunt.texts_check as texts_check
from bots.handover.consent import read_answer
from bots.texts import LANGUAGES, STAFF_LANGUAGES, Language, catalogue, is_visitor_text, reviewed, text
from bots.triage.definition import load_definition
from keerpunt.cli import main

PLACEHOLDER = re.compile(r"{{\s*(\w+)")
NEW: tuple[Language, ...] = tuple(lang for lang in LANGUAGES if lang not in STAFF_LANGUAGES)


def test_texts_check_reports_no_missing_key_in_any_of_the_seven_languages() -> None:
    report = texts_check.check()
    assert set(report.missing) == set(LANGUAGES) == {"nl", "en", "pl", "ro", "bg", "uk", "ar"}
    for language in LANGUAGES:
        assert report.count(report.missing, language) == 0, report.missing[language]
    assert report.ok


def test_the_new_languages_are_marked_unreviewed_and_dutch_and_english_reviewed() -> None:
    report = texts_check.check()
    for language in NEW:
        unreviewed = report.unreviewed[language]
        assert "greeting.welcome" in unreviewed["bots"]
        assert "danger.yes" in unreviewed["triage"] and "skip" in unreviewed["triage"]
        assert "quick_exit.label" in unreviewed["portal"]
        assert "start_button" in unreviewed["widget"]
        assert reviewed(language) == set()
    for language in STAFF_LANGUAGES:
        assert report.count(report.unreviewed, language) == 0


def test_a_missing_visitor_text_fails_the_check(monkeypatch: pytest.MonkeyPatch) -> None:
    real = texts_check.catalogue

    def without_greeting(language: Language) -> dict[str, str]:
        texts = dict(real(language))
        if language == "uk":
            texts.pop("greeting.welcome")
        return texts

    monkeypatch.setattr(texts_check, "catalogue", without_greeting)
    report = texts_check.check()
    assert report.missing["uk"]["bots"] == ["greeting.welcome"]
    assert not report.ok
    assert "missing uk bots: greeting.welcome" in texts_check.render(report, details=False)


def test_the_command_lists_every_language_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["texts", "check"]) == 0
    out = capsys.readouterr().out
    for language in LANGUAGES:
        assert re.search(rf"^{language}\s+0\s+\d+$", out, re.M), out[:400]
    assert re.search(r"^unreviewed ar bots: .*greeting\.welcome", out, re.M)


@pytest.mark.parametrize("language", NEW)
def test_visitor_texts_use_the_dutch_placeholders_and_staff_texts_fall_back_to_english(language: Language) -> None:
    nl, own = catalogue("nl"), catalogue(language)
    for key in (k for k in nl if is_visitor_text(k)):
        assert set(PLACEHOLDER.findall(own[key])) == set(PLACEHOLDER.findall(nl[key])), (language, key)
    assert text(language, "greeting.welcome") != text("en", "greeting.welcome")
    assert text(language, "queue.staff.transfer_unclaimed", number=3) == text(
        "en", "queue.staff.transfer_unclaimed", number=3
    )
    # The neutral name a visitor has in Matrix does not tell their language.
    assert text(language, "visitor.display_name") == text("en", "visitor.display_name")


def test_the_triage_speaks_each_language() -> None:
    definition = load_definition()
    danger = definition.question("danger")
    assert danger is not None
    assert danger.text["pl"] == "Czy komuś grozi teraz niebezpieczeństwo?"
    assert {danger.text[lang] for lang in LANGUAGES}.__len__() == len(LANGUAGES)
    region = definition.question("region")
    assert region is not None
    # Provinces stay Dutch, in Latin script, in every new language.
    assert {region.option("zuid-holland").label[lang] for lang in NEW} == {"Zuid-Holland"}  # type: ignore[union-attr]


def test_a_consent_typed_in_polish_is_understood() -> None:
    reply = read_answer("m.room.message", {"msgtype": "m.text", "body": "tak, chcę"})
    assert reply is not None and reply.answer == "yes"
