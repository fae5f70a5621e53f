"""Open supervision (issue 24): a supervisor reads along as a visible member only after the visitor
was told, whispers to the counsellor in the card's thread (never to the visitor), and the visitor
is told again when it ends, also when the supervisor simply leaves."""

from __future__ import annotations

from bots.supervision.domain import SUPERVISOR_KEY
from bots.supervision.worker import WatchReconciler
from bots.texts import text
from tests.support.core import CoreBot, Visitor

CALM = {"audience": "self", "danger": "no", "topic": "money-mule", "region": "zeeland"}


async def claimed(core: CoreBot, counsellor: str) -> Visitor:
    visitor = await core.open_case()
    await visitor.answer_all(CALM)
    await core.command(core.queue_room, counsellor, f"!claim {visitor.number}")
    await core.join(visitor.room_id, counsellor, "Anna")
    return visitor


async def test_only_a_supervisor_reads_along_and_only_in_a_colleagues_live_chat(core: CoreBot) -> None:
    anna, bram, sam = await core.add_staff("anna"), await core.add_staff("bram"), await core.add_staff("sam")
    await core.stores.staff.set_supervisor(sam, True)
    await core.stores.staff.set_supervisor(anna, True)
    visitor = await claimed(core, anna)
    waiting = await core.open_case()
    await waiting.answer_all(CALM)
    room = core.queue_room
    assert await core.command(room, bram, f"!watch {visitor.number}") == text("nl", "supervision.not_a_supervisor")
    assert await core.command(room, anna, f"!watch {visitor.number}") == text(
        "nl", "supervision.own_chat", number=visitor.number
    )
    assert await core.command(room, sam, f"!watch {waiting.number}") == text(
        "nl", "supervision.not_live", number=waiting.number
    )
    assert await core.command(room, sam, f"!unwatch {visitor.number}") == text(
        "nl", "supervision.not_watching", number=visitor.number
    )
    assert not any(SUPERVISOR_KEY in s.content for s in visitor.heard())


async def test_the_visitor_is_told_before_the_invite_and_the_whisper_never_reaches_them(core: CoreBot) -> None:
    anna, sam = await core.add_staff("anna"), await core.add_staff("sam")
    await core.stores.staff.set_supervisor(sam, True)
    visitor = await claimed(core, anna)

    # !watch, handled without letting the bot catch up: nobody is invited before the notice is out.
    worker = core.bot.service(WatchReconciler)
    command = core.event(sam, "m.room.message", {"msgtype": "m.text", "body": f"!watch {visitor.number}"})
    await core.bot.router.on_room_event(core.queue_room, command)
    assert await worker.step() is True
    assert sam not in core.matrix.rooms[visitor.room_id].users, "invited before the visitor was told"
    await core.bot.sender.flush()
    told = visitor.last()
    assert told.kind == "supervision.visitor.watching"
    assert told.body == text("nl", "supervision.visitor.watching")
    assert "Een collega leest mee om ons werk goed te doen" in told.body
    assert told.content[SUPERVISOR_KEY] == {"user": sam, "watching": True}
    await worker.step()
    assert core.matrix.rooms[visitor.room_id].users[sam] == "invite"
    await core.settle()
    assert core.replies(core.queue_room, command.event_id) == [
        text("nl", "supervision.watching", number=visitor.number)
    ]
    watching = text("nl", "supervision.staff.watching", supervisor=sam, number=visitor.number)
    assert watching in core.thread(visitor.number)
    await core.join(visitor.room_id, sam, "Sam")

    # Sam's line in the chat is his to say: the bot adds nothing. His whisper in the card's thread
    # mentions Anna there, and nothing of it reaches the visitor's room.
    heard = len(visitor.heard())
    await core.say(visitor.room_id, sam, "Hoi, ik ben Sam en lees even mee.")
    card = core.card(visitor.number)
    thread = {"rel_type": "m.thread", "event_id": card.event_id, "m.in_reply_to": {"event_id": card.event_id}}
    await core.say(core.queue_room, sam, "vraag eens naar school", **{"m.relates_to": thread})
    (mention,) = [
        s
        for s in core.sent(core.queue_room)
        if s.body == text("nl", "supervision.staff.whisper", supervisor=sam, counsellor=anna)
    ]
    assert mention.content["m.mentions"] == {"user_ids": [anna]}
    assert mention.content["m.relates_to"]["rel_type"] == "m.thread"
    assert mention.content["m.relates_to"]["m.in_reply_to"] == {"event_id": card.event_id}
    assert "school" not in mention.body
    assert len(visitor.heard()) == heard and not any("school" in s.body for s in visitor.heard())

    # !unwatch typed in the chat: answered under the card, the visitor told, Sam out of the room.
    assert await core.command(visitor.room_id, sam, "!unwatch") == text(
        "nl", "supervision.stopped", number=visitor.number
    )
    assert visitor.last().body == text("nl", "supervision.visitor.stopped")
    assert visitor.last().content[SUPERVISOR_KEY] == {"user": sam, "watching": False}
    assert core.matrix.rooms[visitor.room_id].users[sam] == "leave"
    # Leaving by the bot's hand is not a second goodbye.
    await core.leave(visitor.room_id, sam)
    assert [s.kind for s in visitor.heard()].count("supervision.visitor.stopped") == 1


async def test_a_supervisor_who_simply_leaves_is_announced_to_the_visitor(core: CoreBot) -> None:
    anna, sam = await core.add_staff("anna"), await core.add_staff("sam")
    await core.stores.staff.set_supervisor(sam, True)
    visitor = await claimed(core, anna)
    await core.command(core.queue_room, sam, f"!watch {visitor.number}")
    await core.join(visitor.room_id, sam, "Sam")
    await core.leave(visitor.room_id, sam)
    assert visitor.last().body == text("nl", "supervision.visitor.stopped")
    watch = await core.stores.queue.watch.get((await core.case(visitor)).id)
    assert watch is not None and watch.watched_by is None
    # The counsellor keeps the chat.
    q = await core.stores.queue.workflow.by_number(visitor.number)
    assert q is not None and q.claimed_by == anna and q.stage == "claimed"
