"""The questions as Matrix content: numbered fallback and structured prompt agree with the reader."""

from __future__ import annotations

import pytest

from bots.triage import Outcome, TriageState, interpret, load_definition
from bots.triage.prompts import question_content, reply_parts

DEFINITION = load_definition()


@pytest.mark.parametrize("language", ["nl", "en"])
def test_every_numbered_choice_reads_back_as_that_option(language: str) -> None:
    for index, question in enumerate(DEFINITION.questions):
        content = question_content(DEFINITION, question, language)  # type: ignore[arg-type]
        prompt = content["nl.keerpunt.prompt"]
        assert content["msgtype"] == "m.text" and prompt["id"] == question.id
        assert prompt["options"][-1]["id"] == DEFINITION.skip.id
        for number, option in enumerate(prompt["options"], start=1):
            assert f"{number}. {option['label']}" in content["body"]
            state = TriageState(index=index)
            by_number = interpret(DEFINITION, state, body=str(number))
            by_label = interpret(DEFINITION, state, body=option["label"])
            by_button = interpret(DEFINITION, state, reply={"prompt": question.id, "option": option["id"]})
            for answer in (by_number, by_label, by_button):
                assert answer.outcome in (Outcome.ANSWERED, Outcome.SKIPPED)
                assert answer.option == option["id"]


def test_a_lead_text_comes_before_the_question() -> None:
    content = question_content(DEFINITION, DEFINITION.questions[0], "en", lead="Sorry?")
    assert content["body"].startswith("Sorry?\n\nWho are you looking for help for?")


def test_reply_parts_read_only_messages() -> None:
    assert reply_parts("m.room.message", {"body": "2", "nl.keerpunt.reply": {"prompt": "a", "option": "b"}}) == (
        "2",
        {"prompt": "a", "option": "b"},
    )
    assert reply_parts("m.room.message", {"body": 5, "nl.keerpunt.reply": "x"}) == (None, None)
    assert reply_parts("nl.keerpunt.start", {"body": "2"}) == (None, None)
