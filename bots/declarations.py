"""What a concern declares before it is built, and the whole of it, checked at assembly.

A concern's ``Plug`` declares (``Declared``) the kinds of room it knows (and which only staff
read, and which the bot makes at start), the staff roles it gives and the rooms their members
join, the places its commands may be used, and, for a concern that lives outside ``bots/``, the
folder of its own text files. ``Declarations`` puts every concern's together and checks them
before anything starts: no name declared twice, every room a role joins made at start, every
text the bot will need there in every language. The command table, the staff rooms and the
router read what they need from it, so adding a concern edits no central list.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib.resources.abc import Traversable

from bots.commands.table import ANY, Command, Place
from bots.matrix.staff_rooms import StaffLayout
from bots.texts import STAFF_LANGUAGES, catalogue, include

# Rooms only staff read are one place; its refusal is shared.
STAFF = "staff"
STAFF_REFUSAL = "commands.only_in_staff_room"


@dataclass(frozen=True)
class RoomKind:
    name: str
    # Only staff read it (the bot answers commands in the room itself).
    staff_only: bool = False
    # A staff room the bot makes at start, in the staff Space; named and described by the texts
    # ``rooms.<name>.name`` and ``rooms.<name>.topic``.
    made_at_start: bool = False


@dataclass(frozen=True)
class Role:
    name: str
    # The staff rooms made at start that its members join (and then the staff Space too).
    rooms: tuple[str, ...] = ()
    # Its members get a direct room with the bot when they are added.
    direct_room: bool = False
    # Its members have it only where the concern's role hook gives it (a partner's intake
    # staff, in their own handover rooms); the staff table alone makes them nobody.
    local: bool = False


@dataclass(frozen=True)
class Declared:
    rooms: tuple[RoomKind, ...] = ()
    roles: tuple[Role, ...] = ()
    places: tuple[Place, ...] = ()
    # A folder of text files (``<area>.<language>.yaml``) for a concern outside ``bots/``; the
    # bots' own concerns keep theirs in ``bots/texts``.
    texts: Traversable | None = None


def _unique(names: Iterable[str], what: str) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ValueError(f"two concerns declare the {what} {name!r}")
        seen.add(name)


def _missing_texts(keys: Iterable[str]) -> list[str]:
    return [f"{key} ({language})" for key in keys for language in STAFF_LANGUAGES if key not in catalogue(language)]


class Declarations:
    def __init__(self, declared: Sequence[Declared]) -> None:
        for one in declared:
            if one.texts is not None:
                include(one.texts)
        self.rooms = tuple(kind for one in declared for kind in one.rooms)
        self.roles = tuple(role for one in declared for role in one.roles)
        _unique((kind.name for kind in self.rooms), "room kind")
        _unique((role.name for role in self.roles), "role")
        self.kinds = frozenset(kind.name for kind in self.rooms)
        self.staff_only = frozenset(kind.name for kind in self.rooms if kind.staff_only)
        made = tuple(kind.name for kind in self.rooms if kind.made_at_start)
        for role in self.roles:
            unknown = set(role.rooms) - set(made)
            if unknown:
                raise ValueError(f"the role {role.name!r} joins rooms no concern makes at start: {sorted(unknown)}")
        places = [
            Place(ANY, None, ""),
            Place(STAFF, self.staff_only, STAFF_REFUSAL),
            *(place for one in declared for place in one.places),
        ]
        _unique((place.name for place in places), "place")
        for place in places:
            if place.kinds is not None and not place.kinds <= self.kinds:
                raise ValueError(f"the place {place.name!r} names room kinds nobody declares")
        self.places: Mapping[str, Place] = {place.name: place for place in places}
        self.layout = StaffLayout(
            rooms=made,
            roles={role.name: role.rooms for role in self.roles},
            direct=frozenset(role.name for role in self.roles if role.direct_room),
        )
        keys = [f"rooms.{name}.{part}" for name in made for part in ("name", "topic")]
        missing = _missing_texts([*keys, *(place.refusal for place in places if place.refusal)])
        if missing:
            raise ValueError(f"texts the declared rooms and places need are missing: {', '.join(missing)}")

    @property
    def everyone(self) -> frozenset[str]:
        """Every staff role a concern gives."""
        return frozenset(role.name for role in self.roles)

    @property
    def local(self) -> frozenset[str]:
        return frozenset(role.name for role in self.roles if role.local)

    def check(self, commands: Iterable[Command]) -> None:
        """Every command may be used somewhere declared and has its help in every language."""
        commands = list(commands)
        for command in commands:
            if command.where not in self.places:
                raise ValueError(f"!{command.name} is for a place no concern declares: {command.where!r}")
        missing = _missing_texts(command.help_key for command in commands)
        if missing:
            raise ValueError(f"help texts are missing: {', '.join(missing)}")
