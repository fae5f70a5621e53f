"""Commands from a staff device its owner has not cross-signed are ignored (real E2EE; the
command rules themselves are in tests/core/test_commands.py)."""

from __future__ import annotations

import pytest

from bots.db.handled_event import HandledEventStore
from bots.db.system_room import SystemRoomStore
from bots.ids import EventID, RoomID
from bots.texts import text
from tests.support.bots import InProcessBots
from tests.support.matrix_clients import ClientFactory
from tests.support.staff import Observer, add_counsellor
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration

ANSWERS = {"audience": "self", "danger": "no", "topic": "other", "region": "unknown"}


async def _reply(observer: Observer, room: str, body: str) -> str:
    command = await observer.say(room, body)
    (reply,) = await observer.wait_for(lambda: observer.replies_to(room, command), what=f"the answer to {body}")
    return reply


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
