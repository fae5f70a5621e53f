"""Warm handover, the pure parts: reading consent, the room's shape, the server check, config."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from bots.handover.consent import Reply, consent_content, read_answer
from bots.handover.rooms import MARKER_KEY, NotAllowed, check_servers, handover_room_body
from bots.ids import UserID
from bots.partners.directory import Directory, configured_directory, parse_directory
from bots.texts import text
from bots.triage import load_definition
from keerpunt.base.config import ConfigError, merge
from keerpunt.base.config.loader import build_config
from keerpunt.staff import StaffError, check_partner
from tests.support.config import example_data
from tests.support.partners import DIRECTORY, config

TRIAGE = load_definition()
PARTNERS: Directory = parse_directory(DIRECTORY, config(["partner.example.net"]), TRIAGE)
BOT = UserID("@keerpunt:localhost")
COUNSELLOR = UserID("@counsellor:localhost")


def message(body: str, reply: dict[str, Any] | None = None) -> dict[str, Any]:
    content: dict[str, Any] = {"msgtype": "m.text", "body": body}
    if reply is not None:
        content["nl.keerpunt.reply"] = reply
    return content


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (message("Ja, dat wil ik", {"prompt": "handover:h1", "option": "yes"}), Reply("yes", "h1")),
        (message("x", {"prompt": "handover:h2", "option": "no"}), Reply("no", "h2")),
        (message("x", {"prompt": "handover:h1", "option": "later"}), Reply("later", "h1")),
        (message("ja, dat wil ik!"), Reply("yes", None)),
        (message("Yes, I want that"), Reply("yes", None)),
        (message("Nee liever niet"), Reply("no", None)),
        (message("ik wil erover nadenken"), Reply("later", None)),
    ],
)
def test_an_unambiguous_answer_is_read(content: dict[str, Any], expected: Reply) -> None:
    assert read_answer("m.room.message", content) == expected


@pytest.mark.parametrize(
    "content",
    [
        message("1"),  # a number may answer something the counsellor asked
        message("ja"),
        message("ok, prima"),
        message("x", {"prompt": "handover:h1", "option": "maybe"}),
        message("Ja, dat wil ik", {"prompt": "handover", "option": "yes"}),  # which question?
        {"msgtype": "m.text"},
    ],
)
def test_anything_else_is_not_consent(content: dict[str, Any]) -> None:
    assert read_answer("m.room.message", content) is None


def test_a_reply_to_another_question_is_not_read_as_its_label() -> None:
    # A structured reply to another prompt is not a consent, whatever its option is called.
    assert read_answer("m.room.message", message("Ja, dat wil ik", {"prompt": "region", "option": "yes"})) is None
    assert read_answer("m.reaction", message("Ja, dat wil ik")) is None


def test_the_question_shows_partner_summary_and_buttons_in_both_languages() -> None:
    partner = PARTNERS.get("zorg-utrecht")
    assert partner is not None
    for language in ("nl", "en"):
        content = consent_content(language, partner, "Korte samenvatting.", "h1")
        assert content["nl.keerpunt.prompt"]["id"] == "handover:h1"
        assert "Korte samenvatting." in content["body"] and partner.name in content["body"]
        assert partner.description[language] in content["body"]
        options = content["nl.keerpunt.prompt"]["options"]
        assert [o["id"] for o in options] == ["yes", "no", "later"]
        assert [o["label"] for o in options] == [
            text(language, f"handover.options.{a}") for a in ("yes", "no", "later")
        ]
        assert all(o["label"] in content["body"] for o in options)
        assert content["nl.keerpunt.message"] == "handover.consent"


def test_the_room_is_encrypted_invite_only_and_only_the_bot_invites() -> None:
    invite = [UserID("@visitor-x:localhost"), COUNSELLOR, UserID("@intake:localhost")]
    body = handover_room_body(BOT, "abc123", COUNSELLOR, invite, federate=False)
    assert body["invite"] == invite
    assert body["creation_content"] == {"m.federate": False, MARKER_KEY: "abc123"}
    state = {e["type"]: e["content"] for e in body["initial_state"]}
    assert state["m.room.encryption"]["algorithm"] == "m.megolm.v1.aes-sha2"
    assert state["m.room.encryption"]["rotation_period_msgs"] <= 100
    assert state["m.room.join_rules"] == {"join_rule": "invite"}
    assert state["m.room.history_visibility"] == {"history_visibility": "invited"}
    levels = body["power_level_content_override"]
    assert levels["users"] == {BOT: 100, COUNSELLOR: 50} and levels["invite"] == 100
    assert not {"name", "topic", "room_alias_name"} & set(body)


def test_a_room_federates_only_for_an_allowlisted_partner_server() -> None:
    local = [UserID("@v:localhost"), UserID("@i:localhost")]
    assert check_servers(local, "localhost", ()) is False
    remote = [*local, UserID("@agent:partner.example.net")]
    assert check_servers(remote, "localhost", ("partner.example.net",)) is True
    with pytest.raises(NotAllowed):
        check_servers(remote, "localhost", ())


def test_no_partners_file_means_an_empty_directory_and_a_bad_one_names_the_key(tmp_path: Any) -> None:
    assert configured_directory(config(), TRIAGE).partners == ()
    data = example_data({"handover": {"partners_file": str(tmp_path / "none.yaml")}})
    with pytest.raises(ConfigError) as error:
        configured_directory(build_config(data), TRIAGE)
    assert error.value.key == "handover.partners_file"


@pytest.mark.parametrize(("key", "value"), [("reminder_hours", 0), ("summary_max_chars", 5)])
def test_handover_settings_are_checked(key: str, value: int) -> None:
    data = example_data({"handover": {key: value}})
    with pytest.raises(ConfigError) as error:
        build_config(data)  # builds and checks, as at start-up
    assert error.value.key == f"handover.{key}"


def test_staff_add_names_a_partner_from_the_directory_for_partner_accounts_only(tmp_path: Any) -> None:
    directory = tmp_path / "partners.yaml"
    directory.write_text(yaml.safe_dump(DIRECTORY))
    data = example_data({"handover": {"partners_file": str(directory)}})
    data = merge(data, {"synapse": {"federation_allowlist": ["partner.example.net"]}})
    cfg = build_config(data)
    check_partner(cfg, "partner", "zorg-utrecht")
    check_partner(cfg, "counsellor", None)
    for role, partner, problem in (
        ("partner", None, "needs --partner"),
        ("partner", "nope", "'nope' is not in the partner directory (partners: zorg-utrecht, politie)"),
        ("counsellor", "zorg-utrecht", "only for --role partner"),
    ):
        with pytest.raises(StaffError, match=re.escape(problem)):
            check_partner(cfg, role, partner)  # type: ignore[arg-type]


def test_the_shipped_example_directory_is_valid() -> None:
    data = example_data({"homeserver": {"server_name": "keerpunt.example.nl"}})
    example = yaml.safe_load((Path(__file__).parents[2] / "deploy" / "partners.example.yaml").read_text())
    directory = parse_directory(example, build_config(data), TRIAGE)
    assert [p.id for p in directory.partners] == ["jeugdzorg-utrecht", "politie"]
