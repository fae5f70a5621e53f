"""Staff languages (issue 26): who a reminder names first, who counts as speaking a language,
and what ``keerpunt staff add --languages`` accepts."""

from __future__ import annotations

import pytest

from bots.counsellors.availability import Load, reminder_recipients, speakers
from bots.db.staff import DEFAULT_LANGUAGES, parse_languages
from bots.ids import UserID
from keerpunt.cli import main

ANNA, BRAM, ZOFIA = UserID("@anna:k"), UserID("@bram:k"), UserID("@zofia:k")


def load(user: UserID, *languages: str, chats: int = 0, on_break: bool = False) -> Load:
    return Load(user, chats, 2, on_break, languages or DEFAULT_LANGUAGES)


def test_those_who_speak_the_language_come_first_and_nobody_on_a_break_is_named() -> None:
    loads = [load(ANNA), load(BRAM), load(ZOFIA, "nl", "pl")]
    assert reminder_recipients(loads, urgent=False, language="pl") == [ZOFIA, ANNA, BRAM]
    assert reminder_recipients(loads, urgent=False, language="nl") == [ANNA, BRAM, ZOFIA]
    assert reminder_recipients(loads, urgent=False) == [ANNA, BRAM, ZOFIA]
    away = [load(ANNA), load(ZOFIA, "pl", on_break=True)]
    assert reminder_recipients(away, urgent=False, language="pl") == [ANNA]
    assert speakers(away, "pl") == []
    # Busy but working: a speaker all the same (they may hand a chat on).
    assert speakers([load(ZOFIA, "pl", chats=2)], "pl") == [ZOFIA]


def test_languages_are_read_from_the_column_with_dutch_and_english_by_default() -> None:
    assert parse_languages(None) == ("nl", "en") == parse_languages("")
    assert parse_languages("nl,en,pl") == ("nl", "en", "pl")


@pytest.mark.parametrize("value", ["nl,xx", "", "pl,,de"])
def test_staff_add_refuses_an_unknown_language_before_anything_happens(
    value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["staff", "add", "Ola", "--role", "counsellor", "--languages", value])
    assert exited.value.code == 2
    assert "--languages: unknown language" in capsys.readouterr().err
