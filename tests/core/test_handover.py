"""The handover's rules, driven through the assembled bot: mistakes, consent, the room, the
partner's answer, reminders and the back-off of a failing room (moved here from the end-to-end
suite; the full run with real E2EE and the SIGKILL tests stay there)."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path
from typing import Any

import pytest
import yaml

from bots.db.handover import Handover
from bots.handover.domain import SHOWN_NAME_MAX, shown_name
from bots.handover.worker import HandoverWorker
from bots.homeserver.admin import SynapseError
from bots.ids import RoomID, UserID
from bots.texts import text
from tests.support.core import CoreBot, Visitor

SUMMARY = "Jongen van 16 moet pakketjes rondbrengen voor een oudere jongen en durft niet te stoppen."
CARE = "@intake-zorg:localhost"
ANSWERS = {"audience": "self", "danger": "no", "topic": "drug-running", "region": "utrecht"}


@pytest.fixture
def core_config(tmp_path: Path) -> dict[str, Any]:
    directory = {
        "partners": [
            {
                "id": "jeugdzorg-utrecht",
                "name": "Jeugdzorg Utrecht",
                "kind": "youth-care",
                "regions": ["utrecht"],
                "description": {"nl": "Hulp voor jongeren in Utrecht.", "en": "Help for young people in Utrecht."},
                "intake": [CARE],
            },
            {
                "id": "politie",
                "name": "Politie",
                "kind": "police",
                "regions": ["national"],
                "description": {"nl": "De politie.", "en": "The police."},
            },
        ]
    }
    path = tmp_path / "partners.yaml"
    path.write_text(yaml.safe_dump(directory, allow_unicode=True))
    return {"handover": {"partners_file": str(path), "reminder_hours": 1}}


async def claimed(core: CoreBot) -> tuple[Visitor, UserID, UserID]:
    """A visitor through triage, claimed by a counsellor who joined; and the police's local intake account."""
    police = await core.add_staff("intake-politie", "partner", "politie")
    anna = await core.add_staff("anna")
    visitor = await core.open_case()
    await visitor.answer_all(ANSWERS)
    await core.command(core.queue_room, anna, f"!claim {visitor.number}")
    await core.join(visitor.room_id, anna, "Anna")
    return visitor, anna, police


def consent_prompt(visitor: Visitor) -> str:
    (question,) = [s for s in visitor.heard() if s.kind == "handover.consent"][-1:]
    return str(question.content["nl.keerpunt.prompt"]["id"])


async def records(core: CoreBot, visitor: Visitor) -> list[Handover]:
    return await core.stores.handovers.of_case((await core.case(visitor)).id)


async def test_wrong_handover_commands_are_answered_and_ask_the_visitor_nothing(core: CoreBot) -> None:
    visitor, _anna, _police = await claimed(core)
    room, limit = visitor.room_id, core.config.handover.summary_max_chars
    anna = UserID("@anna:localhost")

    async def answer(body: str, who: str = anna) -> str | None:
        return await core.command(room, who, body)

    assert await answer("!handover nope Korte samenvatting.") == text(
        "nl", "handover.staff.unknown_partner", partner="nope"
    )
    assert await answer("!handover politie") == text("nl", "handover.staff.summary_missing", partner="politie")
    assert await answer("!handover politie " + "x" * (limit + 1)) == text(
        "nl", "handover.staff.summary_too_long", limit=str(limit)
    )
    assert await answer("!handover-status misschien") == text("nl", "handover.staff.status_unknown")
    assert await answer("!handover-status arrived") == text("nl", "handover.staff.no_handover", number=visitor.number)
    assert await answer("!accept") == text("nl", "commands.not_staff")  # partners only
    assert await answer("!partners noord-holland police") == "\n".join(
        [
            text("nl", "handover.staff.partners_header", region="noord-holland", kind="police"),
            text(
                "nl",
                "handover.staff.partners_line",
                id="politie",
                name="Politie",
                kind="police",
                open=True,
                regions="national",
            ),
        ]
    )
    # In the case room, !partners starts from the visitor's own region.
    listing = await answer("!partners")
    assert listing is not None
    assert listing.splitlines()[0] == text("nl", "handover.staff.partners_header", region="utrecht", kind=None)
    # A colleague who did not claim the chat cannot ask the visitor.
    await core.add_staff("colleague")
    assert await answer("!handover politie Korte samenvatting.", "@colleague:localhost") == text(
        "nl", "queue.staff.not_yours", number=visitor.number
    )
    assert await records(core, visitor) == [], "a mistaken command asked the visitor"
    assert not [s for s in visitor.heard() if s.kind == "handover.consent"]


async def test_no_means_no_and_a_button_of_a_replaced_question_answers_nothing(core: CoreBot) -> None:
    visitor, anna, police = await claimed(core)
    rooms = set(core.matrix.rooms)
    await core.command(visitor.room_id, anna, "!handover politie Eerste samenvatting.")
    first = consent_prompt(visitor)
    await core.command(visitor.room_id, anna, "!handover jeugdzorg-utrecht Tweede samenvatting.")
    assert consent_prompt(visitor) != first
    # "Yes" on the first (replaced) question: nothing may come of it.
    await visitor.press(first, "yes", "Ja, dat wil ik")
    await visitor.press(consent_prompt(visitor), "no", "Nee")
    assert visitor.last().kind == "handover.declined"
    assert [(r.partner_id, r.stage) for r in await records(core, visitor)] == [
        ("politie", "cancelled"),
        ("jeugdzorg-utrecht", "declined"),
    ]
    assert all(r.room_id is None and r.summary is None for r in await records(core, visitor))
    assert set(core.matrix.rooms) == rooms, "a handover room was made"
    for user in (police, CARE):
        assert not any(room.users.get(user) for room in core.matrix.rooms.values()), "invited without consent"


async def test_yes_makes_one_room_with_the_summary_then_reminders_and_the_partners_decline(core: CoreBot) -> None:
    visitor, anna, police = await claimed(core)
    await core.command(visitor.room_id, anna, f"!handover politie {SUMMARY}")
    await visitor.press(consent_prompt(visitor), "later", "Ik wil er nog over nadenken")
    assert (await records(core, visitor))[0].stage == "asked"
    await visitor.press(consent_prompt(visitor), "yes", "Ja, dat wil ik")
    (handover,) = await records(core, visitor)
    assert handover.stage == "consented" and handover.room_id is not None
    room = handover.room_id
    assert core.matrix.rooms[room].users == {
        core.bot_id: "join",
        visitor.user_id: "invite",
        anna: "invite",
        police: "invite",
    }
    kinds = [s.kind for s in core.sent(room)]
    assert kinds == ["handover.intro", "handover.summary"]
    assert SUMMARY in core.sent(room)[1].body
    assert handover.summary is None, "the summary is kept only until it is posted"

    # The partner joins: the visitor is told who, from which organisation.
    await core.join(room, police, "Agent Jansen")
    assert core.sent(room)[-1].body == text(
        "nl", "handover.visitor.partner_joined", user="Agent Jansen", partner="Politie"
    )
    # An hour on: the counsellor is reminded under the card, by mention.
    core.clock.advance(3700)
    await core.settle()
    reminder = text("nl", "handover.staff.reminder", number=visitor.number, partner="Politie")
    assert core.thread(visitor.number).count(reminder) == 1
    # !accept is for the handover room; !decline needs a reason; then the partner is taken out.
    # A partner is nobody outside their handover room: no answer at all where the visitor reads.
    assert await core.command(visitor.room_id, police, "!decline nee") is None
    assert await core.command(room, police, "!decline") == text("nl", "handover.staff.decline_reason")
    assert await core.command(room, police, "!decline Wij doen alleen aangiftes, geen opvang.") is None
    assert core.sent(room)[-1].body == text("nl", "handover.visitor.partner_declined", partner="Politie")
    reason = [body for body in core.thread(visitor.number) if "geen opvang" in body]
    assert len(reason) == 1 and police in reason[0]
    assert core.matrix.rooms[room].users[police] == "leave"
    (record,) = await records(core, visitor)
    assert record.stage == "refused" and record.reminder_due is None
    assert await core.command(visitor.room_id, anna, "!handover-status arrived") == text(
        "nl", "handover.staff.no_handover", number=visitor.number
    )
    core.clock.advance(7400)
    await core.settle()
    assert core.thread(visitor.number).count(reminder) == 1, "no reminder after the partner's answer"


async def test_the_partner_accepts_the_counsellor_settles_and_the_visitor_leaving_is_told(core: CoreBot) -> None:
    visitor, anna, _police = await claimed(core)
    await core.command(visitor.room_id, anna, f"!handover jeugdzorg-utrecht {SUMMARY}")
    await visitor.press(consent_prompt(visitor), "yes")
    (handover,) = await records(core, visitor)
    assert handover.room_id is not None
    room = handover.room_id
    assert await core.command(room, CARE, "!accept") is None
    assert core.sent(room)[-1].body == text("nl", "handover.visitor.accepted", partner="Jeugdzorg Utrecht")
    assert await core.command(room, CARE, "!accept") == text(
        "nl", "handover.staff.accept_again", partner="Jeugdzorg Utrecht"
    )
    await core.leave(room, visitor.user_id)
    assert core.sent(room)[-1].body == text("nl", "handover.staff.visitor_left")
    assert await core.command(visitor.room_id, anna, "!handover-status arrived") == text(
        "nl", "handover.staff.status_done", number=visitor.number, partner="Jeugdzorg Utrecht", status="arrived"
    )


async def test_a_failing_handover_room_backs_off_instead_of_hammering_synapse(core: CoreBot) -> None:
    visitor, anna, _police = await claimed(core)
    core.matrix.fail["createRoom"] = SynapseError(502, "M_UNKNOWN", "bad gateway")
    await core.command(visitor.room_id, anna, f"!handover politie {SUMMARY}")
    await visitor.press(consent_prompt(visitor), "yes")
    worker = core.bot.service(HandoverWorker)

    def creates() -> int:
        return core.matrix.calls.count(("createRoom", ""))

    tried = creates()
    assert tried >= 1
    for _ in range(5):  # rounds right after the failure: waiting, not trying
        assert await worker.step() is True
    assert creates() == tried
    for wait in (0.5, 1.0, 2.0):  # each back-off twice as long as the one before
        core.clock.advance(wait - 0.1)
        await worker.step()
        assert creates() == tried, f"tried again before {wait} s"
        core.clock.advance(0.2)
        await worker.step()
        assert creates() == tried + 1, f"not tried again after {wait} s"
        tried += 1
    del core.matrix.fail["createRoom"]
    core.clock.advance(10)
    await core.settle()
    (handover,) = await records(core, visitor)
    assert handover.room_id is not None and RoomID(handover.room_id) in core.matrix.rooms


async def test_staff_commands_in_a_case_or_handover_room_reveal_nothing_there(core: CoreBot) -> None:
    visitor, anna, police = await claimed(core)
    other = await core.open_case()
    await other.answer_all(ANSWERS)  # a second case waits in the queue
    await core.command(visitor.room_id, anna, f"!handover politie {SUMMARY}")
    await visitor.press(consent_prompt(visitor), "yes")
    (handover,) = await records(core, visitor)
    assert handover.room_id is not None
    room = handover.room_id
    await core.join(room, police, "Agent Jansen")
    in_chat, in_handover = len(core.sent(visitor.room_id)), len(core.sent(room))

    refused = text("nl", "commands.only_in_staff_room")
    for where in (visitor.room_id, room):
        for command in ("!queue", "!help", "!stats"):
            assert await core.command(where, anna, command) == refused  # under the card, to Anna
    slip = await core.say(visitor.room_id, anna, f"!note {visitor.number} moeder weet van niets")
    assert (visitor.room_id, slip) in core.matrix.redacted
    # The partner asking for the queue in their handover room learns nothing either.
    assert await core.command(room, police, "!queue") == text("nl", "commands.not_staff")

    said = [s.body for s in core.sent(visitor.room_id)[in_chat:]] + [s.body for s in core.sent(room)[in_handover:]]
    assert said == [text("nl", "commands.not_staff")], said  # only the partner's own refusal
    everything = " ".join(s.body for s in [*core.sent(visitor.room_id), *core.sent(room)])
    assert other.number not in everything and "moeder weet van niets" not in everything
    assert any("moeder weet van niets" in body for body in core.thread(visitor.number))


async def test_the_partner_never_gets_the_case_room_and_a_hostile_display_name_reaches_the_visitor_bounded(
    core: CoreBot,
) -> None:
    """Review L7: nothing the bots write in the handover room, nor its state, names the case
    room; the partner's own display name reaches the visitor without control characters (no
    right-to-left override, no line break) and at most SHOWN_NAME_MAX characters."""
    visitor, anna, police = await claimed(core)
    await core.command(visitor.room_id, anna, f"!handover politie {SUMMARY}")
    await visitor.press(consent_prompt(visitor), "yes", "Ja, dat wil ik")
    (handover,) = await records(core, visitor)
    room = handover.room_id
    assert room is not None
    hostile = "Agent\u202e\nJansen " + "x" * 500
    await core.join(room, police, hostile)
    written = json.dumps([s.content for s in core.sent(room)]) + json.dumps(
        {str(key): value for key, value in core.matrix.state[room].items()}
    )
    assert visitor.room_id not in written
    joined = core.sent(room)[-1]
    assert joined.kind == "handover.partner_joined"
    shown = shown_name(hostile, "Politie")
    assert joined.body == text("nl", "handover.visitor.partner_joined", user=shown, partner="Politie")
    assert len(shown) <= SHOWN_NAME_MAX and shown.startswith("Agent Jansen x")
    assert not any(unicodedata.category(ch)[0] == "C" for ch in shown)
    assert shown_name("\u200b\u202e \n", "Politie") == "Politie"
