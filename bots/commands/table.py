"""Staff commands: how a concern declares one, and the table assembled from every concern's.

Each concern owns its commands (``queue/commands.py``, ``handover/commands.py``): a row says
the command's name, its typed arguments, where it may be used, who may use it and the method
that runs it. ``CommandTable`` gathers the rows, parses ``!name args…`` against them, and is
what ``!help`` is generated from.

Arguments are typed: ``case`` (a case number), ``user`` (a Matrix ID), ``word`` (one token,
e.g. an outcome), ``text`` (the rest of the line). Optional arguments end in ``?``. A name of
two words (``outreach link``) is a subcommand: ``!outreach`` alone, or with a word that is not
one of its subcommands, is answered with the list of its subcommands.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from bots.db.case import Case
from bots.errors import UserError
from bots.ids import EventID, UserID
from bots.turn import Turn, Where

# A command may be used "any"where the bots answer, in "staff" rooms only (its answer is for
# staff alone), or in a place a concern declares ("case", "handover"; bots.declarations).
ANY = "any"
ArgKind = Literal["case", "user", "word", "text"]
ARG_KINDS: tuple[ArgKind, ...] = ("case", "user", "word", "text")

PREFIX = "!"
CASE_RE = re.compile(r"^#?(\d{1,8})$")
USER_RE = re.compile(r"^@[a-z0-9._=/+-]+:[A-Za-z0-9.:-]+$")


@dataclass(frozen=True)
class Place:
    """Where a command may be used: rooms of ``kinds`` (None: any room the bots answer in);
    anywhere else it is refused with the text ``refusal``."""

    name: str
    kinds: frozenset[str] | None
    refusal: str

    def allows(self, kind: str) -> bool:
        return self.kinds is None or kind in self.kinds


@dataclass(frozen=True)
class Arg:
    name: str
    kind: ArgKind
    optional: bool = False


def args(spec: str) -> tuple[Arg, ...]:
    """``"case:case user:user? text:text?"`` → the typed arguments, in order."""
    out = []
    for token in spec.split():
        name, kind = token.rstrip("?").split(":")
        found = next((k for k in ARG_KINDS if k == kind), None)
        if found is None:
            raise ValueError(f"unknown argument kind {kind!r} in {spec!r}")
        out.append(Arg(name, found, token.endswith("?")))
    return tuple(out)


@dataclass(frozen=True)
class Context:
    """Where in the room: the event itself and the thread or reply it belongs to."""

    event_id: EventID
    thread_root: EventID | None
    replying_to: EventID | None

    @classmethod
    def of(cls, event_id: EventID, content: dict[str, Any]) -> Context:
        relates = content.get("m.relates_to")
        relates = relates if isinstance(relates, dict) else {}
        root = relates.get("event_id") if relates.get("rel_type") == "m.thread" else None
        in_reply = relates.get("m.in_reply_to")
        replying = in_reply.get("event_id") if isinstance(in_reply, dict) else None
        return cls(
            event_id,
            EventID(root) if isinstance(root, str) else None,
            EventID(replying) if isinstance(replying, str) else None,
        )


@dataclass(frozen=True)
class Call:
    """One command being run: where, by whom, with which arguments, in which turn."""

    turn: Turn
    context: Context
    values: dict[str, str]

    @property
    def where(self) -> Where:
        return self.turn.where

    @property
    def case(self) -> Case:
        """The case of the room the command was given in: a command the table lets run only
        in a case or handover room has one."""
        case = self.turn.where.case
        if case is None:
            raise LookupError("a command for a case ran in a room without one")
        return case

    @property
    def sender(self) -> UserID:
        return self.turn.sender

    @property
    def now(self) -> int:
        return self.turn.now


# A command's method: the reply for the staff member, or None when what the visitor (or the
# card) is told says it already.
Run = Callable[[Call], Awaitable[str | None]]


@dataclass(frozen=True)
class Command:
    name: str
    args: tuple[Arg, ...]
    # The name of the place it may be used in (checked at assembly).
    where: str
    run: Run = field(compare=False)
    roles: frozenset[str] = frozenset({"counsellor"})
    # Values the help text needs (``!close``'s outcomes, from the config).
    help_values: Mapping[str, str] = field(default_factory=dict, compare=False)
    # Other names it answers to (``!pauze`` for ``!pause``), shown with it in ``!help``.
    aliases: tuple[str, ...] = ()

    @property
    def usage(self) -> str:
        parts = [f"{PREFIX}{self.name}"]
        for arg in self.args:
            parts.append(f"[{arg.name}]" if arg.optional else f"<{arg.name}>")
        return " ".join(parts)

    @property
    def names(self) -> str:
        """``!pause``, or ``!pause`` with its aliases: ``!pause / !pauze``."""
        return " / ".join(f"{PREFIX}{name}" for name in (self.name, *self.aliases))

    @property
    def help_key(self) -> str:
        return f"commands.{self.name.replace(' ', '.')}.help"


@dataclass(frozen=True)
class Parsed:
    command: Command
    values: dict[str, str]


def is_command(body: str) -> bool:
    return body.lstrip().startswith(PREFIX) and len(body.strip()) > 1


class CommandTable:
    """Every concern's commands, in the order the concerns were assembled (``!help``'s order)."""

    def __init__(self, commands: Iterable[Command]) -> None:
        self._commands: dict[str, Command] = {}
        self._aliases: dict[str, Command] = {}
        for command in commands:
            for name in (command.name, *command.aliases):
                if name in self._commands or name in self._aliases:
                    raise ValueError(f"two concerns declare the command !{name}")
            self._commands[command.name] = command
            self._aliases.update(dict.fromkeys(command.aliases, command))

    def __iter__(self) -> Iterator[Command]:
        return iter(self._commands.values())

    def __len__(self) -> int:
        return len(self._commands)

    def get(self, name: str) -> Command | None:
        return self._commands.get(name) or self._aliases.get(name)

    def parse(self, body: str) -> Parsed:
        """Parse ``!name args…``; raises UserError with a helpful key on any problem."""
        head, _, rest = body.strip()[len(PREFIX) :].partition(" ")
        name = head.lower()
        second, _, after = rest.strip().partition(" ")
        command = self._commands.get(f"{name} {second.lower()}") if second else None
        if command is not None:
            rest = after
        else:
            command = self.get(name)
        if command is None:
            subcommands = [c.usage for c in self if c.name.startswith(f"{name} ")]
            if subcommands:
                raise UserError("commands.subcommands", name=name, usages="\n".join(subcommands))
            raise UserError("commands.unknown", name=name)
        return Parsed(command, _values(command, rest.strip()))


def _values(command: Command, rest: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for index, arg in enumerate(command.args):
        if arg.kind == "text":
            token, rest = rest, ""
        else:
            token, _, after = rest.partition(" ")
            if arg.optional and token and command.args[index + 1 :] and not _fits(arg, token):
                continue  # ``!wrapup debts``: an optional case left out before the words
            rest = after.strip()
        if not token:
            if arg.optional:
                continue
            raise UserError("commands.missing_argument", usage=command.usage, argument=arg.name)
        values[arg.name] = _check(command, arg, token)
    if rest:
        raise UserError("commands.too_many_arguments", usage=command.usage)
    return values


def _fits(arg: Arg, token: str) -> bool:
    if arg.kind == "case":
        return CASE_RE.match(token) is not None
    if arg.kind == "user":
        return USER_RE.match(token) is not None
    return True


def _check(command: Command, arg: Arg, token: str) -> str:
    if arg.kind == "case":
        match = CASE_RE.match(token)
        if not match:
            raise UserError("commands.bad_case", usage=command.usage, value=token)
        return match[1]
    if arg.kind == "user":
        if not USER_RE.match(token):
            raise UserError("commands.bad_user", usage=command.usage, value=token)
        return token
    if arg.kind == "word":
        return token.lower()
    return token
