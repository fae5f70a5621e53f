"""The outbox sender: a room done makes way for the next at once, also for a message queued while
a flush is running (bench/triage.py: fifty visitors answering together).

The store is the bots' real one; the client stands in for nio's ``room_send`` only, so that one
room's send can be held until the test lets it go.
"""

from __future__ import annotations

import asyncio
import secrets
from types import SimpleNamespace
from typing import Any

from nio import RoomSendResponse

from bots.clock import SystemClock
from bots.db import Database
from bots.db.outbox import OutboxStore
from bots.ids import RoomID
from bots.matrix.outbox import OutboxSender


class HeldClient:
    """Unencrypted rooms only (the trust policy is not asked); a room's sends wait on its gate."""

    def __init__(self, *rooms: RoomID) -> None:
        self.rooms = {room: SimpleNamespace(encrypted=False) for room in rooms}
        self.gates: dict[str, asyncio.Event] = {}
        self.sent: list[str] = []
        self.bodies: dict[str, list[str]] = {room: [] for room in rooms}
        self.any_sent = asyncio.Event()

    async def room_send(self, room_id: str, message_type: str, content: dict[str, Any], tx_id: str) -> Any:
        if room_id in self.gates:
            await self.gates[room_id].wait()
        self.sent.append(room_id)
        self.bodies[room_id].append(content["body"])
        self.any_sent.set()
        return RoomSendResponse(f"$event{len(self.sent)}", room_id)


def _room() -> RoomID:
    return RoomID(f"!{secrets.token_hex(6)}:test")


async def test_a_message_queued_during_a_flush_does_not_wait_for_a_slow_room(db: Database) -> None:
    outbox = OutboxStore(db)
    slow, quick = _room(), _room()
    client = HeldClient(slow, quick)
    client.gates[slow] = asyncio.Event()
    sender = OutboxSender(client, outbox, trust=None, clock=SystemClock())  # type: ignore[arg-type]
    await outbox.enqueue(slow, "m.room.message", {"body": "slow"}, 1)
    flushing = asyncio.create_task(sender.flush())
    await asyncio.sleep(0.1)  # the flush is now waiting on the slow room's send

    await outbox.enqueue(quick, "m.room.message", {"body": "quick"}, 1)
    sender.wake()
    await asyncio.wait_for(client.any_sent.wait(), 10)  # the old flush timed out here
    assert client.sent == [quick], "the slow room is still held"

    client.gates[slow].set()
    assert await asyncio.wait_for(flushing, 10) is True
    assert client.sent == [quick, slow]
    assert [m for m in await outbox.pending(1000) if m.room_id in (slow, quick)] == []


async def test_one_rooms_messages_still_leave_in_order(db: Database) -> None:
    outbox = OutboxStore(db)
    room, other = _room(), _room()
    client = HeldClient(room, other)
    sender = OutboxSender(client, outbox, trust=None, clock=SystemClock())  # type: ignore[arg-type]
    for i in range(3):
        await outbox.enqueue(room, "m.room.message", {"body": str(i)}, 1)
        await outbox.enqueue(other, "m.room.message", {"body": str(i)}, 1)
    assert await sender.flush() is True
    assert client.bodies == {room: ["0", "1", "2"], other: ["0", "1", "2"]}
