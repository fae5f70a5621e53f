"""Who may use commands, what !help lists, and the short answers to mistakes."""

from __future__ import annotations

import pytest

from bots.commands import COMMANDS
from bots.db.handled_event import HandledEventStore
from bots.db.queue_case import QueueStore
from bots.db.system_room import SystemRoomStore
from bots.ids import EventID, RoomID
from bots.texts import text
from tests.support.bots import InProcessBots
from tests.support.matrix_clients import ClientFactory
from tests.support.staff import Observer, add_counsellor, stranger_in_queue_room
from tests.support.triage import answer_all, start_visitor
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration

ANSWERS = {"audience": "self", "danger": "no", "topic": "other", "region": "unknown"}


async def _reply(observer: Observer, room: str, body: str) -> str:
    command = await observer.say(room, body)
    (reply,) = await observer.wait_for(lambda: observer.replies_to(room, command), what=f"the answer to {body}")
    return reply


@pytest.mark.fresh_bots("counts the queue: !queue lists one case")
async def test_commands_of_someone_who_is_not_staff_are_refused(bots: InProcessBots, clients: ClientFactory) -> None:
    counsellor = await add_counsellor(clients, bots.config, bots.db)
    stranger = await stranger_in_queue_room(clients, bots.config, bots.db)
    queue_room = await SystemRoomStore(bots.db).get("queue")
    assert queue_room is not None
    visitor = await start_visitor(clients, bots.api, bots.user_id)
    await answer_all(visitor, ANSWERS)
    card = await stranger.wait_for(lambda: stranger.card(queue_room, visitor.number), what="the card")

    not_staff = text("nl", "commands.not_staff")
    for command in (f"!claim {visitor.number}", "!queue", "!help", f"!note {visitor.number} hallo"):
        assert await _reply(stranger, queue_room, command) == not_staff
    await stranger.send(
        queue_room,
        "m.reaction",
        {"m.relates_to": {"rel_type": "m.annotation", "event_id": card["event_id"], "key": "👍"}},
    )
    await stranger.wait_for(lambda: not_staff in stranger.replies_to(queue_room, card["event_id"]), what="the refusal")
    q = await QueueStore(bots.db).by_number(visitor.number)
    assert q is not None and q.stage == "waiting" and q.claimed_by is None
    # A staff member's commands work in the same room.
    assert (await _reply(counsellor, queue_room, "!queue")).startswith(text("nl", "queue.staff.queue_header", count=1))


@pytest.mark.fresh_bots("counts the queue: !queue says it is empty")
async def test_help_lists_every_command_and_mistakes_get_a_helpful_answer(
    bots: InProcessBots, clients: ClientFactory
) -> None:
    counsellor = await add_counsellor(clients, bots.config, bots.db)
    queue_room = await SystemRoomStore(bots.db).get("queue")
    assert queue_room is not None
    listing = await _reply(counsellor, queue_room, "!help")
    lines = listing.splitlines()
    assert lines[0] == text("nl", "commands.help_header")
    for command in COMMANDS.values():
        assert any(line.startswith(f"{command.usage} – ") for line in lines), command.name
    assert len(lines) == len(COMMANDS) + 1

    assert await _reply(counsellor, queue_room, "!claimm 12") == text("nl", "commands.unknown", name="claimm")
    assert await _reply(counsellor, queue_room, "!transfer 12") == text(
        "nl", "commands.missing_argument", usage=COMMANDS["transfer"].usage, argument="user"
    )
    assert await _reply(counsellor, queue_room, "!close helped") == text("nl", "queue.staff.only_in_case_room")
    assert await _reply(counsellor, queue_room, "!claim 99999999") == text(
        "nl", "queue.staff.unknown_case", number="99999999"
    )
    assert await _reply(counsellor, queue_room, "!claim") == text("nl", "queue.staff.which_case")
    assert await _reply(counsellor, queue_room, "!queue") == text("nl", "queue.staff.queue_empty")


async def test_commands_from_a_staff_device_that_is_not_cross_signed_are_ignored(
    bots: InProcessBots, clients: ClientFactory
) -> None:
    counsellor = await add_counsellor(clients, bots.config, bots.db)
    queue_room = await SystemRoomStore(bots.db).get("queue")
    assert queue_room is not None
    unsigned = Observer(await clients.second_device(counsellor.user))
    await unsigned.wait_for(lambda: queue_room in unsigned.user.client.rooms, what="the queue room")
    command = await unsigned.say(queue_room, "!help")
    handled = HandledEventStore(bots.db)

    async def outcome() -> str | None:
        for record in await handled.in_room(RoomID(queue_room)):
            if record.event_id == EventID(command):
                return record.outcome
        return None

    assert await wait_until(outcome, what="the bot to look at the command") == "ignored_untrusted"
    # A signed device of the same counsellor is answered.
    assert (await _reply(counsellor, queue_room, "!help")).startswith(text("nl", "commands.help_header"))
    await counsellor.sync()
    assert counsellor.replies_to(queue_room, command) == []
