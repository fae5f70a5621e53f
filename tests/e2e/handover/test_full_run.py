"""A whole warm handover: the counsellor asks, the visitor says yes, the room with exactly the
three parties (and the bot), the partner reads the agreed summary, accepts, the counsellor marks
it arrived. Then what the partner may not do: read or join anything else, or invite anyone."""

from __future__ import annotations

import hashlib

import pytest
from nio import JoinError, RoomMessagesError

from bots.db.case import CaseStore
from bots.db.case_log import CaseLogStore
from bots.db.handover import HandoverStore
from bots.db.ready_session import ReadySessionStore
from bots.db.system_room import SystemRoomStore
from bots.ids import RoomID
from bots.texts import text
from tests.support.bots import InProcessBots
from tests.support.handover import (
    SUMMARY,
    Partners,
    answer_consent,
    claimed_case,
    member_events,
    new_invite,
    of_kind,
    room_state,
    wait_kind,
)
from tests.support.matrix_clients import ClientFactory
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration


@pytest.mark.pg  # the handover's full run on PostgreSQL too
async def test_consent_room_summary_accept_and_arrived(
    bots: InProcessBots, clients: ClientFactory, partners: Partners
) -> None:
    bot = bots.user_id
    visitor, counsellor = await claimed_case(clients, bots.config, bots.db, bots.api)
    care = partners.care

    # Finding a partner: in the case room the visitor's region (Utrecht) is used; the answer is
    # for staff, so it comes under the case card in the queue room, not in the chat.
    queue_room = await SystemRoomStore(bots.db).get("queue")
    assert queue_room is not None
    card = counsellor.card(queue_room, visitor.number)
    assert card is not None

    def under_card(needle: str) -> str | None:
        return next((b for b in counsellor.in_thread(queue_room, card["event_id"]) if needle in b), None)

    listing_cmd = await counsellor.say(visitor.room, "!partners")
    listing = await counsellor.wait_for(lambda: under_card("jeugdzorg-utrecht"), what="!partners under the card")
    assert "politie" in listing
    assert counsellor.replies_to(visitor.room, listing_cmd) == []

    await counsellor.say(visitor.room, f"!handover jeugdzorg-utrecht {SUMMARY}")
    question = await wait_kind(visitor.observer, visitor.room, bot, "handover.consent")
    content = question["content"]
    assert [o["id"] for o in content["nl.keerpunt.prompt"]["options"]] == ["yes", "no", "later"]
    assert SUMMARY in content["body"] and "Jeugdzorg Utrecht" in content["body"]

    # Nothing happens before the yes: no room, no invite for the partner.
    store = HandoverStore(bots.db)
    case = await CaseStore(bots.db).by_room(RoomID(visitor.room))
    assert case is not None
    (asked,) = await store.of_case(case.id)
    assert asked.stage == "asked" and asked.room_id is None
    assert content["nl.keerpunt.prompt"]["id"] == f"handover:{asked.id}"
    await care.sync()
    assert not care.invites

    # "Later" keeps the question open; the counsellor reads the answer in the case room.
    await answer_consent(visitor, "later")
    await wait_kind(counsellor, visitor.room, bot, "handover.later")
    await answer_consent(visitor, "yes")
    await wait_kind(counsellor, visitor.room, bot, "handover.consented")

    room = await new_invite(care)
    assert room == await new_invite(visitor.observer) == await new_invite(counsellor)
    for party in (visitor.observer, counsellor, care):
        await party.join(room)

    # Exactly the three parties and the bot, encrypted, nothing readable in the state.
    state = await room_state(clients, room)
    members = {e["state_key"]: e["content"]["membership"] for e in state if e["type"] == "m.room.member"}
    assert members == {bot: "join", visitor.observer.user_id: "join", counsellor.user_id: "join", care.user_id: "join"}
    types = {e["type"] for e in state}
    assert "m.room.encryption" in types and not types & {"m.room.name", "m.room.topic", "m.room.canonical_alias"}
    create = next(e for e in state if e["type"] == "m.room.create")
    assert create["content"]["m.federate"] is False
    levels = next(e for e in state if e["type"] == "m.room.power_levels")["content"]
    assert levels["invite"] == 100 and care.user_id not in levels["users"]

    # The partner decrypts the summary the visitor agreed to; the visitor reads who joined.
    summary = await wait_kind(care, room, bot, "handover.summary")
    assert SUMMARY in summary["content"]["body"]
    intro = await wait_kind(care, room, bot, "handover.intro")
    assert intro["content"]["nl.keerpunt.handover"]["partner"] == "Jeugdzorg Utrecht"
    joined = await wait_kind(visitor.observer, room, bot, "handover.partner_joined")
    assert joined["content"]["nl.keerpunt.partner"] == {"user": care.user_id, "organisation": "Jeugdzorg Utrecht"}
    await wait_kind(visitor.observer, room, bot, "handover.summary")
    assert not care.undecryptable and not visitor.observer.undecryptable

    await care.say(room, "!accept")
    accepted = await wait_kind(visitor.observer, room, bot, "handover.accepted")
    assert accepted["content"]["body"] == text("nl", "handover.visitor.accepted", partner="Jeugdzorg Utrecht")
    await counsellor.say(visitor.room, "!handover-status arrived")
    done = text(
        "nl", "handover.staff.status_done", number=visitor.number, partner="Jeugdzorg Utrecht", status="arrived"
    )
    await counsellor.wait_for(lambda: under_card(done), what="the status under the card")

    (record,) = await store.of_case(case.id)
    assert record.stage == "arrived" and record.accepted_by == care.user_id and record.room_id == room
    assert record.summary is None, "the summary is kept only until it is queued for the room"
    assert record.summary_hash == hashlib.sha256(SUMMARY.encode()).hexdigest()
    kinds = [e.kind for e in await CaseLogStore(bots.db).of_case(case.id) if e.kind.startswith("handover")]
    assert kinds == [
        "handover_asked",
        "handover_later",
        "handover_consented",
        "handover_room",
        "handover_accepted",
        "handover_arrived",
    ]
    invites = [e for e in await member_events(clients, room) if e["content"]["membership"] == "invite"]
    assert sorted(e["state_key"] for e in invites) == sorted(
        [visitor.observer.user_id, counsellor.user_id, care.user_id]
    )

    # What a partner can never do.
    queue_room = await SystemRoomStore(bots.db).get("queue")
    assert queue_room is not None
    for forbidden in (visitor.room, queue_room):
        joined_resp = await care.user.client.join(forbidden)
        assert isinstance(joined_resp, JoinError), f"a partner joined {forbidden}"
        read = await care.user.client.room_messages(forbidden, start="")
        assert isinstance(read, RoomMessagesError), f"a partner read {forbidden}"
    police = partners.police
    other = await police.user.client.join(room)
    assert isinstance(other, JoinError), "another partner joined this handover room"
    stranger = await clients.user("stranger")
    invited = await care.user.client.room_invite(room, stranger.user_id)
    assert getattr(invited, "status_code", None) == "M_FORBIDDEN", "a partner invited someone"
    claim_cmd = await care.say(room, f"!claim {visitor.number}")
    (refusal,) = await care.wait_for(lambda: care.replies_to(room, claim_cmd), what="the refusal")
    assert refusal == text("nl", "commands.not_staff")
    assert len(of_kind(care, room, bot, "handover.summary")) == 1

    async def no_foreign_invites() -> bool:
        await police.sync()
        return True

    await wait_until(no_foreign_invites, what="a sync of the other partner")
    assert not police.invites, "a partner not chosen was invited"


async def test_visitor_says_no_nobody_is_invited(
    bots: InProcessBots, clients: ClientFactory, partners: Partners
) -> None:
    bot = bots.user_id
    visitor, counsellor = await claimed_case(clients, bots.config, bots.db, bots.api)
    await counsellor.say(visitor.room, f"!handover politie {SUMMARY}")
    await wait_kind(visitor.observer, visitor.room, bot, "handover.consent")
    await answer_consent(visitor, "no")
    await wait_kind(counsellor, visitor.room, bot, "handover.declined")

    case = await CaseStore(bots.db).by_room(RoomID(visitor.room))
    assert case is not None
    (record,) = await HandoverStore(bots.db).of_case(case.id)
    assert record.stage == "declined" and record.summary is None and record.room_id is None
    # A later "yes" (a second click, a replayed message) changes nothing.
    await answer_consent(visitor, "yes")
    await visitor.observer.say(visitor.room, "Ok toch wel")
    bot_client = bots.service.client if bots.service else None
    assert bot_client is not None
    rooms_before = set(bot_client.rooms)
    for _ in range(3):
        await partners.police.sync()
    assert not partners.police.invites, "the partner was invited without consent"
    (again,) = await HandoverStore(bots.db).of_case(case.id)
    assert again.stage == "declined" and again.room_id is None
    # No room was made for the case: the only rooms the bot may have joined meanwhile are ready
    # sessions its pool prepares in the background (a handover room never becomes one).
    pool = ReadySessionStore(bots.db)

    async def only_ready_sessions_are_new() -> bool:
        return set(bot_client.rooms) - rooms_before <= await pool.room_ids()

    await wait_until(only_ready_sessions_are_new, within=10, what="new rooms to be ready sessions only")
    joined = await partners.police.user.client.join(visitor.room)
    assert isinstance(joined, JoinError)
