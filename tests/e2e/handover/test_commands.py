"""Mistakes with the handover commands get a clear answer and change nothing."""

from __future__ import annotations

import pytest

from bots.db.case import CaseStore
from bots.db.handover import HandoverStore
from bots.ids import RoomID
from bots.texts import text
from tests.support.bots import InProcessBots
from tests.support.handover import Partners, answer_consent, claimed_case, of_kind, wait_kind
from tests.support.matrix_clients import ClientFactory
from tests.support.staff import Observer, add_counsellor, bot_token

pytestmark = pytest.mark.integration


async def test_wrong_handover_commands_are_answered_and_change_nothing(
    bots: InProcessBots, clients: ClientFactory, partners: Partners
) -> None:
    visitor, counsellor = await claimed_case(clients, bots.config, bots.db, bots.api)
    room = visitor.room
    limit = bots.config.handover.summary_max_chars

    async def answer(body: str, speaker: Observer | None = None) -> str:
        who = speaker or counsellor
        sent = await who.say(room, body)
        (reply,) = await who.wait_for(lambda: who.replies_to(room, sent), what=f"the answer to {body}")
        return str(reply)

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

    # A colleague who did not claim the chat cannot ask the visitor.
    colleague = await add_counsellor(clients, bots.config, bots.db, "colleague")
    admin = await clients.admin(await bot_token(bots.config))
    await admin.force_join(RoomID(room), colleague.user_id)
    await colleague.wait_for(lambda: room in colleague.user.client.rooms, what="the case room")
    assert await answer("!handover politie Korte samenvatting.", colleague) == text(
        "nl", "queue.staff.not_yours", number=visitor.number
    )

    case = await CaseStore(bots.db).by_room(RoomID(room))
    assert case is not None
    assert await HandoverStore(bots.db).of_case(case.id) == [], "a mistaken command asked the visitor"


async def test_a_button_of_a_replaced_question_answers_nothing(
    bots: InProcessBots, clients: ClientFactory, partners: Partners
) -> None:
    bot = bots.user_id
    visitor, counsellor = await claimed_case(clients, bots.config, bots.db, bots.api)
    await counsellor.say(visitor.room, "!handover politie Eerste samenvatting.")
    first = await wait_kind(visitor.observer, visitor.room, bot, "handover.consent")
    await counsellor.say(visitor.room, "!handover jeugdzorg-utrecht Tweede samenvatting.")
    await visitor.observer.wait_for(
        lambda: len(of_kind(visitor.observer, visitor.room, bot, "handover.consent")) == 2, what="the second question"
    )
    # The visitor presses "yes" on the first (replaced) question: nothing may come of it.
    old_prompt = first["content"]["nl.keerpunt.prompt"]["id"]
    await visitor.answer("Ja, dat wil ik", prompt=old_prompt, option="yes")
    await answer_consent(visitor, "no")  # the newest question
    await wait_kind(counsellor, visitor.room, bot, "handover.declined")

    case = await CaseStore(bots.db).by_room(RoomID(visitor.room))
    assert case is not None
    records = await HandoverStore(bots.db).of_case(case.id)
    assert [(r.partner_id, r.stage) for r in records] == [("politie", "cancelled"), ("jeugdzorg-utrecht", "declined")]
    assert all(r.room_id is None and r.summary is None for r in records)
    assert not of_kind(counsellor, visitor.room, bot, "handover.consented")
    for partner in (partners.police, partners.care):
        await partner.sync()
        assert not partner.invites, "a partner was invited without consent"
