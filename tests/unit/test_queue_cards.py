"""Case cards, the triage summary, !queue and !help are rendered from enumerated values only."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bots.matrix.content import card_edit, notice_reply, under_card
from bots.queue.cards import CaseFacts, QueueLine, render_card, render_queue, summary_text
from bots.texts import text
from bots.triage import load_definition

DEFINITION = load_definition()
ZONE = ZoneInfo("Europe/Amsterdam")
NOW = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)  # 14:00 in Amsterdam
SINCE = int(datetime(2026, 5, 4, 11, 30, tzinfo=UTC).timestamp() * 1000)  # 13:30 there


def facts(**changes: object) -> CaseFacts:
    base: dict[str, object] = {
        "number": "4821",
        "stage": "waiting",
        "urgent": False,
        "answers": {"audience": "self", "danger": "no", "topic": "money-mule", "region": "skip"},
        "entry": "widget",
        "campaign": None,
        "waiting_since": SINCE,
        "claimed_by": None,
        "outcome": None,
        "departure": None,
    }
    base.update(changes)
    return CaseFacts(**base)  # type: ignore[arg-type]


def test_a_waiting_card_shows_labels_time_and_how_to_claim() -> None:
    body = render_card(facts(), DEFINITION, "nl", ZONE, NOW)
    lines = body.splitlines()
    assert lines[0] == "Chat 4821"
    assert "Status: wacht op een hulpverlener" in lines
    assert "Voor wie: Voor mezelf" in lines
    assert "Gevaar: Nee" in lines
    assert "Onderwerp: Mijn bankrekening of pas uitlenen (geldezel)" in lines
    assert "Provincie: overgeslagen" in lines
    assert "Binnengekomen via: de chat op de website" in lines
    assert "Wacht sinds: vandaag om 13:30" in lines
    assert lines[-1] == text("nl", "queue.card.how_to_claim", number="4821")


def test_an_urgent_claimed_card_names_the_counsellor_and_has_no_claim_hint() -> None:
    body = render_card(facts(urgent=True, stage="claimed", claimed_by="@anna:k"), DEFINITION, "nl", ZONE, NOW)
    assert body.startswith("🚨 Chat 4821 – URGENT")
    assert "Status: aangenomen door @anna:k" in body
    assert "!claim" not in body


@pytest.mark.parametrize(
    ("changes", "needle"),
    [
        ({"stage": "closed", "claimed_by": "@anna:k", "outcome": "helped"}, "gesloten door @anna:k (uitkomst helped)"),
        ({"stage": "closed", "departure": "left"}, "gesloten, niemand had de chat aangenomen"),
        (
            {"stage": "claimed", "claimed_by": "@a:k", "departure": "quick_exit"},
            "De bezoeker heeft ‘Snel weg’ gebruikt.",
        ),
        ({"entry": "outreach", "campaign": "geldezel"}, "Binnengekomen via: een outreach-link (campagne geldezel)"),
    ],
)
def test_card_states(changes: dict[str, object], needle: str) -> None:
    assert needle in render_card(facts(**changes), DEFINITION, "nl", ZONE, NOW)


def test_nothing_but_known_ids_reaches_the_card() -> None:
    """An id the definition does not know is shown as unanswered, never echoed."""
    odd = facts(answers={"audience": "ik word bedreigd door mijn neef", "unknown-question": "x"})
    body = render_card(odd, DEFINITION, "en", ZONE, NOW)
    assert "neef" not in body and "unknown-question" not in body
    assert "For whom: –" in body.splitlines()


def test_the_summary_lists_every_question() -> None:
    summary = summary_text(facts(claimed_by="@anna:k"), DEFINITION, "en")
    assert summary.startswith("@anna:k claimed chat 4821.")
    assert summary.count("\n- ") == len(DEFINITION.questions)


def test_the_queue_lists_in_the_given_order_with_waiting_minutes() -> None:
    lines = [
        QueueLine("7", True, SINCE, {"danger": "yes"}),
        QueueLine("8", False, SINCE - 60_000, {"topic": "debts", "region": "skip"}),
    ]
    listing = render_queue(lines, 2, DEFINITION, "nl", SINCE + 10 * 60_000).splitlines()
    assert listing[0] == "Wachtrij (2):"
    assert listing[1] == "1. Chat 7 – URGENT – wacht 10 min – Ja"
    assert listing[2] == "2. Chat 8 – wacht 11 min – Schulden bij criminelen"
    assert listing[3] == "Aangenomen: 2."
    assert render_queue([], 0, DEFINITION, "en", 0) == "Nobody is waiting now."


def test_edits_replace_the_card_and_posts_hang_under_it() -> None:
    edit = card_edit("Chat 1\nStatus: x", "1", "claimed", "$card")  # type: ignore[arg-type]
    assert edit["m.relates_to"] == {"rel_type": "m.replace", "event_id": "$card"}
    assert edit["m.new_content"]["body"] == "Chat 1\nStatus: x" and edit["body"].startswith("* ")
    assert edit["m.mentions"] == {} and edit["m.new_content"]["m.mentions"] == {}
    threaded = under_card({"msgtype": "m.text", "body": "n"}, "thread", "$card")  # type: ignore[arg-type]
    assert threaded["m.relates_to"]["rel_type"] == "m.thread" and threaded["m.relates_to"]["event_id"] == "$card"
    reply = under_card({"msgtype": "m.text", "body": "n"}, "reply", "$card")  # type: ignore[arg-type]
    assert reply["m.relates_to"] == {"m.in_reply_to": {"event_id": "$card"}}
    answer = notice_reply("ok", "$cmd", thread_root="$card")  # type: ignore[arg-type]
    assert answer["msgtype"] == "m.notice"
    assert answer["m.relates_to"]["m.in_reply_to"] == {"event_id": "$cmd"}
    assert answer["m.relates_to"]["event_id"] == "$card"
