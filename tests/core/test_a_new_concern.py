"""A concern declares its own rooms, roles, places and texts: one defined outside ``bots/``
(``tests/core/example_concern``) plugs in beside the others, and nothing central names it."""

from __future__ import annotations

import pytest

from bots.app import PLUGS, App
from bots.commands.table import Call, Command, Place
from bots.concern import Plug
from bots.declarations import Declared, Role, RoomKind
from bots.texts import text
from tests.core.example_concern import Supervision
from tests.support.config import example_config
from tests.support.core import CoreBot

ANSWERS = {"audience": "self", "danger": "no", "topic": "other", "region": "unknown"}


@pytest.fixture
def core_plugs() -> tuple[type[Plug], ...]:
    return (*PLUGS, Supervision)


async def test_its_room_is_made_at_start_in_the_staff_space_and_its_role_joins_it(core: CoreBot) -> None:
    room = core.bot.parts.rooms["supervision"]
    assert await core.stores.system_rooms.get("supervision") == room
    assert core.matrix.state[room][("nl.keerpunt.room", "")] == {"kind": "supervision"}
    assert ("m.space.child", room) in core.matrix.state[core.bot.parts.rooms["space"]]
    sam = await core.add_staff("sam", "supervisor")
    await core.bot.parts.staff_rooms.add_member(sam, "supervisor")  # as `keerpunt staff add` does
    assert core.matrix.rooms[room].users[sam] == "join"
    assert core.matrix.rooms[core.bot.parts.rooms["space"]].users[sam] == "join"
    assert sam not in core.matrix.rooms[core.queue_room].users


async def test_its_command_works_in_its_place_for_its_role_with_its_own_texts(core: CoreBot) -> None:
    room = core.bot.parts.rooms["supervision"]
    sam, anna = await core.add_staff("sam", "supervisor"), await core.add_staff("anna")
    visitor = await core.open_case()
    await visitor.answer_all(ANSWERS)

    assert await core.command(room, sam, "!load") == text("nl", "supervision.load", waiting=1, claimed=0)
    help_line = text("nl", "commands.help_line", usage="!load", help=text("nl", "commands.load.help"))
    listing = await core.command(room, sam, "!help")
    assert listing is not None and help_line in listing.splitlines()
    # Elsewhere it is refused with its own text; to others it is not theirs.
    assert await core.command(core.queue_room, sam, "!load") == text("nl", "supervision.only_here")
    assert await core.command(core.queue_room, anna, "!load") == text("nl", "commands.not_staff")
    assert text("en", "commands.load.help") != text("nl", "commands.load.help")


def test_what_concerns_declare_is_checked_before_anything_starts() -> None:
    config = example_config()

    class Twice(Supervision):
        declares = Declared(rooms=(RoomKind("queue"),))

    class Nowhere(Supervision):
        declares = Declared(roles=(Role("watcher", rooms=("watchtower",)),))

    class Untold(Supervision):
        declares = Declared(places=(Place("somewhere", frozenset({"case"}), "no.such.text"),))

    for plug, problem in (
        (Twice, "two concerns declare the room kind 'queue'"),
        (Nowhere, "joins rooms no concern makes at start"),
        (Untold, r"no\.such\.text \(nl\)"),
    ):
        with pytest.raises(ValueError, match=problem):
            App(config, plugs=(*PLUGS, plug))


async def test_a_command_for_an_undeclared_place_or_without_help_fails_the_assembly(core: CoreBot) -> None:
    async def run(call: Call) -> str | None:
        return None

    declared = core.app.declared
    with pytest.raises(ValueError, match="a place no concern declares"):
        declared.check([Command("nowhere", (), "the moon", run)])
    with pytest.raises(ValueError, match=r"commands\.unhelpful\.help \(nl\)"):
        declared.check([Command("unhelpful", (), "staff", run)])
