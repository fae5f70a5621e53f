"""Queue order, the waiting-time estimate and the command parser."""

from __future__ import annotations

import pytest

from bots.commands import COMMANDS, CommandError, parse
from bots.commands.table import is_command
from bots.queue.order import Waiting, estimate_wait_minutes, ordered, positions


def test_urgent_cases_go_first_then_the_longest_waiting() -> None:
    cases = [Waiting("1", False, 100), Waiting("2", True, 300), Waiting("3", False, 50), Waiting("4", True, 200)]
    assert [c.case for c in ordered(cases)] == ["4", "2", "3", "1"]
    assert positions(cases) == {"4": 1, "2": 2, "3": 3, "1": 4}


def test_estimate_grows_with_position_and_shrinks_with_counsellors() -> None:
    history = [600.0, 1200.0, 900.0]  # median 15 minutes
    one = [estimate_wait_minutes(p, history, 1, 1200) for p in (1, 2, 3)]
    assert one == [10, 25, 40]
    assert estimate_wait_minutes(3, history, 3, 1200) == 10
    assert estimate_wait_minutes(0, history, 1, 1200) == 0


def test_estimate_without_history_uses_the_default_and_is_at_least_five_minutes() -> None:
    assert estimate_wait_minutes(1, [], 2, 1200) == 10
    assert estimate_wait_minutes(1, [30.0], 5, 1200) == 5


@pytest.mark.parametrize(
    ("body", "name", "values"),
    [
        ("!claim 4821", "claim", {"case": "4821"}),
        ("!claim #4821", "claim", {"case": "4821"}),
        ("!CLAIM", "claim", {}),
        ("!release", "release", {}),
        ("!transfer 12 @anna:keerpunt.nl", "transfer", {"case": "12", "user": "@anna:keerpunt.nl"}),
        ("!close", "close", {}),
        ("!close Doorverwezen", "close", {"outcome": "doorverwezen"}),
        ("!note 12 belt morgen terug, is bang", "note", {"case": "12", "text": "belt morgen terug, is bang"}),
        ("!queue", "queue", {}),
        ("  !help  ", "help", {}),
    ],
)
def test_commands_parse(body: str, name: str, values: dict[str, str]) -> None:
    parsed = parse(body)
    assert parsed.command.name == name
    assert parsed.values == values


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ("!claimm 1", "commands.unknown"),
        ("!transfer 12", "commands.missing_argument"),
        ("!transfer twelve @a:b", "commands.bad_case"),
        ("!transfer 12 anna", "commands.bad_user"),
        ("!release now", "commands.too_many_arguments"),
        ("!note 12", "commands.missing_argument"),
    ],
)
def test_bad_commands_get_a_helpful_error(body: str, key: str) -> None:
    with pytest.raises(CommandError) as info:
        parse(body)
    assert info.value.key == key
    if key != "commands.unknown":
        assert info.value.values["usage"].startswith("!")


def test_only_bang_messages_are_commands() -> None:
    assert is_command("!queue")
    assert not is_command("hallo !queue")
    assert not is_command("!")


def test_every_command_has_a_usage_line() -> None:
    for name, command in COMMANDS.items():
        assert command.usage.startswith(f"!{name}")
