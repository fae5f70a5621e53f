"""Outreach from the worker's Element-like client to the visitor's chat, against real Synapse.

A worker asks for an invite in the outreach room and gets a link, a code and an encrypted QR
image; a visitor who uses the code is routed to that worker while the triage runs; a code used
again, guessed, expired or revoked answers exactly like a plain start and routes nobody; off
duty, the case queues with the outreach tag and the worker is told in their direct room.
"""

from __future__ import annotations

from typing import Any

import pytest
from nio import DownloadResponse
from nio.crypto.attachments import decrypt_attachment

from bots.db.case import CaseStore
from bots.db.case_log import CaseLogStore
from bots.db.queue.triage import TriageStore
from bots.db.queue.workflow import WorkflowStore
from bots.db.system_room import SystemRoomStore
from bots.ids import RoomID
from bots.matrix.staff_rooms import direct_room_kind
from bots.texts import text
from bots.visitors.invites import new_code
from tests.support.bots import InProcessBots
from tests.support.matrix_clients import ClientFactory
from tests.support.staff import Observer, add_counsellor, add_outreach_worker
from tests.support.triage import Visitor, answer_all, prompt_of
from tests.support.visitor import join, post_session, speak_first
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration

CALM = {"audience": "self", "danger": "no", "topic": "money-mule", "region": "utrecht"}
CAMPAIGN = "geldezel-no-way"


async def ask_invite(worker: Observer, room: str, args: str = "") -> tuple[dict[str, Any], dict[str, Any]]:
    """``!outreach link`` → the answer's ``nl.keerpunt.invite`` and the QR image event."""
    asked = await worker.say(room, f"!outreach link {args}".strip())

    def answered() -> tuple[dict[str, Any], dict[str, Any]] | None:
        answer = next(
            (
                e
                for e in worker.messages(room)
                if (e["content"].get("m.relates_to") or {}).get("m.in_reply_to", {}).get("event_id") == asked
            ),
            None,
        )
        if answer is None:
            return None
        invite = answer["content"].get("nl.keerpunt.invite")
        image = next(
            (
                e
                for e in worker.messages(room)
                if e["content"].get("msgtype") == "m.image" and invite and invite["code"] in e["content"]["body"]
            ),
            None,
        )
        return (answer, image) if image is not None else None

    found = await worker.wait_for(answered, what="the invite and its QR image")
    answer, image = found
    return answer, image


async def start_with(bots: InProcessBots, clients: ClientFactory, invite: str | None) -> tuple[int, Any, Visitor]:
    body: dict[str, Any] = {"language": "nl", "entry": "outreach" if invite is not None else "widget"}
    if invite is not None:
        body["invite"] = invite
    status, session, _ = await post_session(bots.api, body)
    assert status == 201, session
    user = await clients.visitor(session)
    await join(user, session["room_id"], bots.user_id)
    visitor = Visitor(Observer(user), session, bots.user_id)
    await speak_first(user, session["room_id"], "nl")
    return status, session, visitor


async def case_of(bots: InProcessBots, visitor: Visitor) -> Any:
    case = await CaseStore(bots.db).by_room(RoomID(visitor.room))
    assert case is not None
    return case


async def test_an_invite_opens_an_encrypted_chat_with_the_worker_and_works_once(
    bots: InProcessBots, clients: ClientFactory
) -> None:
    outreach_room = await SystemRoomStore(bots.db).get("outreach")
    queue_room = await SystemRoomStore(bots.db).get("queue")
    assert outreach_room is not None and queue_room is not None
    worker = await add_outreach_worker(clients, bots.config, bots.db, organisation="Spine")
    counsellor = await add_counsellor(clients, bots.config, bots.db)

    answer, image = await ask_invite(worker, outreach_room, CAMPAIGN)
    invite = answer["content"]["nl.keerpunt.invite"]
    code, link = invite["code"], invite["link"]
    assert set(invite) == {"code", "link", "expires_at", "language"} and invite["expires_at"].endswith("Z")
    assert invite["language"] == "nl"  # the staff default unless the worker names one (issue 26)
    assert link == f"{bots.config.portal.public_url.rstrip('/')}/nl/campagne/{CAMPAIGN}#invite={code}"
    assert "?" not in link, "the code travels in the fragment only, never in a query string"
    assert code in answer["content"]["body"] and link in answer["content"]["body"]
    # The QR image is encrypted media (Synapse stores only ciphertext) and decodes to a PNG.
    encrypted_file = image["content"]["file"]
    assert "url" not in image["content"] and encrypted_file["url"].startswith("mxc://")
    downloaded = await worker.user.client.download(encrypted_file["url"])
    assert isinstance(downloaded, DownloadResponse), downloaded
    assert not downloaded.body.startswith(b"\x89PNG")
    png = decrypt_attachment(
        downloaded.body, encrypted_file["key"]["k"], encrypted_file["hashes"]["sha256"], encrypted_file["iv"]
    )
    assert png.startswith(b"\x89PNG\r\n\x1a\n")

    # The visitor opens the link: the worker is invited at once, the triage still runs.
    plain_status, plain, plain_visitor = await start_with(bots, clients, None)
    status, session, visitor = await start_with(bots, clients, code.lower().replace("-", " "))
    assert status == plain_status and set(session) == set(plain)
    greeting, routed, first = await visitor.next_from_bot(0, count=3)
    assert greeting["content"]["body"] == text("nl", "greeting.welcome")
    assert routed["content"]["body"] == text("nl", "queue.visitor.routed")
    assert (prompt_of(first) or {}).get("id") == "audience"
    await worker.wait_for(lambda: visitor.room in worker.user.client.invited_rooms, what="the invite to the chat")
    await worker.join(visitor.room)
    case = await case_of(bots, visitor)
    assert case.entry == "outreach" and case.routed_to == worker.user_id and case.campaign == CAMPAIGN
    card = await counsellor.wait_for(lambda: counsellor.card(queue_room, visitor.number), what="the card")
    entry = text("nl", "queue.card.organisation", entry=text("nl", "queue.card.entry.outreach"), organisation="Spine")
    assert text("nl", "queue.card.campaign", entry=entry, campaign=CAMPAIGN) in card["content"]["body"]
    assert text("nl", "queue.card.status.claimed", counsellor=worker.user_id) in card["content"]["body"]

    # Both ways, end-to-end encrypted; the triage answers still count.
    await answer_all(visitor, CALM)
    await worker.say(visitor.room, "Hoi, ik ben het, van Instagram.")
    await visitor.observer.wait_message(visitor.room, worker.user_id, lambda e: "Instagram" in e["content"]["body"])
    await visitor.answer("Fijn dat je er bent.")
    await worker.wait_message(visitor.room, visitor.observer.user_id, lambda e: "Fijn" in e["content"]["body"])
    assert not worker.undecryptable and not visitor.observer.undecryptable
    assert await TriageStore(bots.db).answers(case.id) == CALM
    assert await bots.db.fetchval("SELECT COUNT(*) FROM outreach_invite") == 0, "a used invite is gone"

    # Used again, guessed, expired, revoked: a plain start (same answer, same first messages),
    # the normal queue, nobody invited.
    expired = (await ask_invite(worker, outreach_room))[0]["content"]["nl.keerpunt.invite"]["code"]
    await bots.db.execute("UPDATE outreach_invite SET expires_at=0")
    revoked = (await ask_invite(worker, outreach_room))[0]["content"]["nl.keerpunt.invite"]["code"]
    revoke = await worker.say(outreach_room, f"!outreach revoke {revoked}")
    await worker.wait_for(lambda: worker.replies_to(outreach_room, revoke), what="the revoke answer")
    assert worker.replies_to(outreach_room, revoke) == [text("nl", "outreach.revoked")]
    plain_first = [e["content"]["body"] for e in await plain_visitor.next_from_bot(0, count=2)]
    status, again, other = await start_with(bots, clients, code)  # used again, seen as the visitor sees it
    assert status == plain_status and set(again) == set(plain)
    assert [e["content"]["body"] for e in await other.next_from_bot(0, count=2)] == plain_first
    for tried in (code, new_code(), expired, revoked, "not-a-code"):
        status, again, _ = await post_session(bots.api, {"language": "nl", "entry": "outreach", "invite": tried})
        assert status == plain_status and set(again) == set(plain)
        other_case = await CaseStore(bots.db).by_room(RoomID(again["room_id"]))
        assert other_case is not None and other_case.routed_to is None and other_case.entry == "outreach"
    q = await WorkflowStore(bots.db).get((await case_of(bots, other)).id)
    assert q is not None and q.stage == "triage" and q.claimed_by is None

    # The statistics count the sessions per entry and per campaign, and nothing names a person.
    async def counted() -> dict[str, int] | None:
        bots.statistics.wake()  # it counts when woken, else every 30 s
        rows = await bots.db.fetch("SELECT dimension, count FROM stat_count WHERE measure='sessions_started'")
        found = {str(r["dimension"]): int(r["count"]) for r in rows}
        return found if found.get("entry:outreach", 0) >= 6 and f"campaign:{CAMPAIGN}" in found else None

    counts = await wait_until(counted, within=45, what="the sessions counted")
    assert counts[f"campaign:{CAMPAIGN}"] == 1 and counts["entry:widget"] >= 1
    every = await bots.db.fetch("SELECT measure, dimension FROM stat_count")
    assert not any("@" in str(r["dimension"]) or code in str(r["dimension"]) for r in every)
    await worker.sync()
    assert worker.user.client.invited_rooms.keys() <= {visitor.room}


async def test_off_duty_the_case_queues_with_the_tag_and_the_worker_is_told(
    bots: InProcessBots, clients: ClientFactory
) -> None:
    outreach_room = await SystemRoomStore(bots.db).get("outreach")
    assert outreach_room is not None
    worker = await add_outreach_worker(clients, bots.config, bots.db)
    off = await worker.say(outreach_room, "!duty off")
    await worker.wait_for(lambda: worker.replies_to(outreach_room, off), what="the duty answer")
    assert worker.replies_to(outreach_room, off) == [text("nl", "outreach.duty_off")]
    direct = await SystemRoomStore(bots.db).get(direct_room_kind(worker.user_id))
    assert direct is not None
    await worker.wait_for(lambda: direct in worker.user.client.rooms, what="the direct room")

    code = (await ask_invite(worker, outreach_room))[0]["content"]["nl.keerpunt.invite"]["code"]
    _, _, visitor = await start_with(bots, clients, code)
    _greeting, first = await visitor.next_from_bot(0, count=2)
    assert (prompt_of(first) or {}).get("id") == "audience"
    told = await worker.wait_message(
        direct, bots.user_id, lambda e: visitor.number in e["content"]["body"], what="the off-duty notice"
    )
    assert told["content"]["body"] == text("nl", "outreach.off_duty_case", number=visitor.number)
    await answer_all(visitor, CALM)
    case = await case_of(bots, visitor)
    q = await WorkflowStore(bots.db).get(case.id)
    assert q is not None and q.stage == "waiting"
    kinds = [e.kind for e in await CaseLogStore(bots.db).of_case(case.id)]
    assert "routed_off_duty" in kinds and "claimed" not in kinds
    assert visitor.room not in worker.user.client.invited_rooms

    # Back on duty, the next invite routes again; and `!outreach log` counts only channel and result.
    on = await worker.say(direct, "!duty on")
    await worker.wait_for(lambda: worker.replies_to(direct, on), what="the duty answer in the direct room")
    logged = await worker.say(outreach_room, "!outreach log instagram talked")
    await worker.wait_for(lambda: worker.replies_to(outreach_room, logged), what="the log answer")
    bad = await worker.say(outreach_room, "!outreach log my-neighbour talked")
    await worker.wait_for(lambda: worker.replies_to(outreach_room, bad), what="the refusal")
    assert worker.replies_to(outreach_room, bad)[0].startswith(text("nl", "outreach.channel_unknown", values="")[:10])
    rows = await bots.db.fetch("SELECT measure, dimension, count FROM stat_count WHERE measure='outreach_approaches'")
    assert {(r["dimension"], r["count"]) for r in rows} == {
        ("total", 1),
        ("channel:instagram", 1),
        ("approach:talked", 1),
    }
