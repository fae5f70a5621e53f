"""Triage: the shipped definition is valid, and replies are read as the design says."""

from __future__ import annotations

from importlib import resources
from typing import Any

import pytest
import yaml

from bots.triage import Outcome, TriageState, interpret, load_definition
from bots.triage.definition import parse_definition
from keerpunt.base.config import ConfigError

DEFINITION = load_definition()


def test_shipped_definition_asks_the_four_questions_in_order() -> None:
    assert [q.id for q in DEFINITION.questions] == ["audience", "danger", "topic", "region"]
    topics = {o.id for o in DEFINITION.question("topic").options}  # type: ignore[union-attr]
    assert topics == {"drug-running", "money-mule", "forced-crime", "debts", "recruitment", "other"}
    regions = DEFINITION.question("region").options  # type: ignore[union-attr]
    assert len(regions) == 13 and regions[-1].id == "unknown"
    assert [o.id for o in DEFINITION.question("danger").options if o.urgent] == ["yes"]  # type: ignore[union-attr]


def state_at(question_id: str) -> TriageState:
    return TriageState(index=DEFINITION.index(question_id))


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"reply": {"prompt": "audience", "option": "close"}}, "close"),
        ({"body": "2"}, "close"),
        ({"body": " voor iemand die ik ken. "}, "close"),
        ({"body": "For someone I KNOW"}, "close"),
        ({"body": "4"}, "skip"),
        ({"body": "sla over"}, "skip"),
        ({"reply": {"prompt": "audience", "option": "skip"}}, "skip"),
    ],
)
def test_structured_number_and_label_replies_are_understood(kwargs: dict[str, Any], expected: str) -> None:
    answer = interpret(DEFINITION, state_at("audience"), **kwargs)
    assert answer.option == expected
    assert answer.outcome in (Outcome.ANSWERED, Outcome.SKIPPED)


def test_a_reply_to_another_prompt_is_not_taken_as_this_answer() -> None:
    answer = interpret(DEFINITION, state_at("audience"), reply={"prompt": "topic", "option": "debts"}, body="x")
    assert answer.outcome is Outcome.REASK


def test_yes_to_danger_is_urgent_and_no_is_not() -> None:
    assert interpret(DEFINITION, state_at("danger"), body="ja").urgent is True
    assert interpret(DEFINITION, state_at("danger"), body="Nee").urgent is False


def test_short_unknown_answer_is_asked_again_then_free_text_reaches_the_queue() -> None:
    state = state_at("topic")
    first = interpret(DEFINITION, state, body="huh")
    assert first.outcome is Outcome.REASK
    state.apply(DEFINITION, first)
    second = interpret(DEFINITION, state, body="weet niet")
    assert second.outcome is Outcome.FREE_TEXT
    state.apply(DEFINITION, second)
    assert state.done and state.answers == {}


def test_a_long_message_goes_straight_to_the_queue() -> None:
    answer = interpret(
        DEFINITION, TriageState(), body="ik moet pakketjes rondbrengen en ik wil stoppen maar ik ben bang"
    )
    assert answer.outcome is Outcome.FREE_TEXT


def test_out_of_range_numbers_are_asked_again() -> None:
    assert interpret(DEFINITION, TriageState(), body="9").outcome is Outcome.REASK
    assert interpret(DEFINITION, TriageState(), body="0").outcome is Outcome.REASK


def test_a_whole_triage_keeps_only_option_ids() -> None:
    state = TriageState()
    for body in ("1", "nee", "Geldezel? no"):
        state.apply(DEFINITION, interpret(DEFINITION, state, body=body))
    # "Geldezel? no" is not a label: the topic is asked again, once.
    assert state.current(DEFINITION).id == "topic"  # type: ignore[union-attr]
    assert state.reasks == 1
    for body in ("2", "Utrecht"):
        state.apply(DEFINITION, interpret(DEFINITION, state, body=body))
    assert state.done
    assert state.answers == {"audience": "self", "danger": "no", "topic": "money-mule", "region": "utrecht"}


def _broken(mutate: Any) -> ConfigError:
    data = yaml.safe_load(resources.files("bots.triage").joinpath("definition.yaml").read_text())
    mutate(data)
    with pytest.raises(ConfigError) as info:
        parse_definition(data)
    return info.value


def test_a_missing_translation_names_the_key() -> None:
    err = _broken(lambda d: d["questions"][1]["options"][0]["label"].pop("en"))
    assert err.key == "triage.questions[1].options[0].label"


def test_duplicate_ids_and_bad_ids_are_refused() -> None:
    assert "duplicate" in str(_broken(lambda d: d["questions"][1].update(id="audience")))
    assert _broken(lambda d: d["questions"][0]["options"][0].update(id="Bad Id")).key.endswith(".id")
