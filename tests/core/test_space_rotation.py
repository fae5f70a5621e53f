"""The staff Space made anew every week (bots/queue/space.py): the staff rooms, the staff and
the live case rooms move over, nothing that is no longer live does, and the old Space is
deleted and purged, so it cannot keep a purged case room's ID (tests/e2e/test_purge_synapse_tables.py
walks Synapse's tables for that)."""

from __future__ import annotations

from typing import Any

from bots.clock import millis
from bots.ids import RoomID
from bots.matrix.staff_rooms import NEXT_SPACE, OLD_SPACE, SPACE
from bots.queue.space import DAY_MS, MADE_AT, SPACE_DAYS
from tests.support.core import CoreBot

CALM = {"audience": "self", "danger": "no", "topic": "money-mule", "region": "zeeland"}


def children(core: CoreBot, space: str) -> dict[str, Any]:
    """The Space's children that are linked now (a taken-out link has empty content)."""
    state = core.matrix.state.get(RoomID(space), {})
    return {key: content for (kind, key), content in state.items() if kind == "m.space.child" and content}


async def test_a_week_on_the_staff_space_is_made_anew_with_what_is_live_and_the_old_one_is_purged(
    core: CoreBot,
) -> None:
    anna = await core.add_staff("anna")
    waiting = await core.open_case()
    await waiting.answer_all(CALM)
    claimed = await core.open_case()
    await claimed.answer_all(CALM)
    await core.command(core.queue_room, anna, f"!claim {claimed.number}")
    closed = await core.open_case()
    await closed.answer_all(CALM)
    await core.command(core.queue_room, anna, f"!claim {closed.number}")
    await core.command(closed.room_id, anna, "!close helped")
    await core.settle()
    old = await core.stores.system_rooms.get(SPACE)
    assert old is not None
    assert {waiting.room_id, claimed.room_id, core.queue_room} <= set(children(core, old))
    assert closed.room_id not in children(core, old)
    # Nothing happens before the week is over.
    await core.settle()
    assert await core.stores.system_rooms.get(SPACE) == old

    week_ago = millis(core.clock) - SPACE_DAYS * DAY_MS - 1
    await core.stores.bot_state.put(MADE_AT, str(week_ago))
    await core.settle()
    new = await core.stores.system_rooms.get(SPACE)
    assert new is not None and new != old
    assert set(children(core, new)) == set(children(core, old)) - {closed.room_id}  # what was live
    assert {waiting.room_id, claimed.room_id, core.queue_room} <= set(children(core, new))
    assert core.matrix.rooms[new].users[anna] == "join"
    assert core.matrix.state[claimed.room_id][("m.space.parent", new)]["canonical"] is True
    # The old Space is deleted and purged, and Synapse forgets what it kept of gone rooms.
    assert old not in core.matrix.rooms
    assert ("forget_rooms", "") in core.matrix.calls
    assert await core.stores.system_rooms.get(OLD_SPACE) is None
    assert await core.stores.system_rooms.get(NEXT_SPACE) is None
    # A new staff member (keerpunt staff add) joins the new Space; a case that enters the queue
    # now is linked there.
    bram = await core.add_staff("bram")
    await core.bot.parts.staff_rooms.add_member(bram, "counsellor")
    assert core.matrix.rooms[new].users[bram] == "join"
    later = await core.open_case()
    await later.answer_all(CALM)
    await core.settle()
    assert later.room_id in children(core, new)
