"""The greeting and the visitor's names render in both languages (tests/unit/test_texts.py checks
that both have the same keys); the case room gives the visitor no power and no state."""

from __future__ import annotations

import json
from pathlib import Path

from bots.crypto.trust import UserKeys
from bots.ids import UserID
from bots.matrix.rooms import case_power_levels
from bots.texts import LANGUAGES, text
from bots.triage.greeting import START_EVENT, greeting_content, start_language
from bots.visitors.accounts import visitor_localpart
from bots.visitors.rooms import case_room_body

WIDGET_LOCALES = Path(__file__).parents[2] / "widget" / "src" / "app" / "locales"
BOT = UserID("@keerpunt:localhost")
VISITOR = UserID("@visitor-x:localhost")


def test_greeting_and_visitor_names_render_in_both_languages() -> None:
    for language in LANGUAGES:
        assert text(language, "greeting.welcome")
        assert text(language, "visitor.display_name")
        assert greeting_content(language)["msgtype"] == "m.text"
    assert text("nl", "visitor.display_name") == "Bezoeker"


def test_the_greeting_names_the_same_readers_as_the_start_screen() -> None:
    """Who can read the chat, said alike (security review N11): the visitor, the counsellors in
    the conversation and Keerpunt's chat system (the bots read every case room), never "only
    our counsellors"."""
    start = json.loads((WIDGET_LOCALES / "nl.json").read_text("utf-8"))["start_encrypted"]
    readers = "Alleen jij, de hulpverleners in het gesprek en het chatsysteem van Keerpunt"
    assert readers in start and readers in text("nl", "greeting.welcome")
    start = json.loads((WIDGET_LOCALES / "en.json").read_text("utf-8"))["start_encrypted"]
    for reader in ("Only you", "the counsellors in", "Keerpunt's chat system"):
        assert reader in start and reader in text("en", "greeting.welcome")
    for language in LANGUAGES:
        assert "Keerpunt" in text(language, "greeting.welcome").splitlines()[1]


def test_the_start_event_chooses_the_language() -> None:
    assert start_language(START_EVENT, {"language": "en"}, "nl") == "en"
    assert start_language(START_EVENT, {"language": "xx"}, "nl") == "nl"
    assert start_language("m.room.message", {"language": "en"}, "nl") == "nl"


def test_visitor_localparts_are_random_and_long() -> None:
    names = {visitor_localpart() for _ in range(100)}
    assert len(names) == 100
    assert all(len(n.removeprefix("visitor-")) * 4 >= 96 for n in names)


def test_the_case_room_is_encrypted_private_and_names_nothing() -> None:
    body = case_room_body(BOT, VISITOR)
    assert body["invite"] == [VISITOR]
    assert body["creation_content"] == {"m.federate": False}
    assert "name" not in body and "topic" not in body and "room_alias_name" not in body
    state = {e["type"]: e["content"] for e in body["initial_state"]}
    assert state["m.room.encryption"]["rotation_period_msgs"] <= 100
    assert state["m.room.history_visibility"] == {"history_visibility": "joined"}
    assert state["m.room.guest_access"] == {"guest_access": "forbidden"}
    assert state["m.room.join_rules"] == {"join_rule": "invite"}


def test_the_visitor_can_only_send_messages() -> None:
    levels = case_power_levels(BOT)
    visitor = levels["users"].get(VISITOR, levels["users_default"])
    assert visitor == 0 and levels["events_default"] == 0
    for action in ("state_default", "invite", "kick", "ban", "redact"):
        assert levels[action] > visitor, action
    assert levels["notifications"]["room"] > visitor
    assert levels["events"]["m.reaction"] > visitor
    assert all(level > visitor for level in levels["events"].values())


def test_user_keys_without_cross_signing_have_no_keys() -> None:
    assert UserKeys(BOT).master_public is None
    assert UserKeys(BOT).self_signing_public is None
