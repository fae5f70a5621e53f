"""The command table. ``!help`` is generated from it and a test checks every command is in it.

Arguments are typed: ``case`` (a case number), ``user`` (a Matrix ID), ``word`` (one token,
e.g. an outcome), ``text`` (the rest of the line). Optional arguments end in ``?``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

Where = Literal["queue", "case", "handover", "any"]
ArgKind = Literal["case", "user", "word", "text"]

PREFIX = "!"
CASE_RE = re.compile(r"^#?(\d{1,8})$")
USER_RE = re.compile(r"^@[a-z0-9._=/+-]+:[A-Za-z0-9.:-]+$")


@dataclass(frozen=True)
class Arg:
    name: str
    kind: ArgKind
    optional: bool = False


@dataclass(frozen=True)
class Command:
    name: str
    args: tuple[Arg, ...]
    where: Where
    roles: frozenset[str] = field(default_factory=lambda: frozenset({"counsellor"}))

    @property
    def usage(self) -> str:
        parts = [f"{PREFIX}{self.name}"]
        for arg in self.args:
            parts.append(f"[{arg.name}]" if arg.optional else f"<{arg.name}>")
        return " ".join(parts)

    @property
    def help_key(self) -> str:
        return f"commands.{self.name}.help"


def _args(spec: str) -> tuple[Arg, ...]:
    out = []
    for token in spec.split():
        name, kind = token.rstrip("?").split(":")
        out.append(Arg(name, kind, token.endswith("?")))  # type: ignore[arg-type]
    return tuple(out)


COMMANDS: dict[str, Command] = {
    c.name: c
    for c in (
        Command("claim", _args("case:case?"), "any"),
        Command("release", _args(""), "case"),
        Command("transfer", _args("case:case user:user"), "any"),
        Command("close", _args("outcome:word?"), "case"),
        Command("note", _args("case:case text:text"), "any"),
        Command("queue", _args(""), "any"),
        Command("partners", _args("region:word? kind:word?"), "any"),
        Command("handover", _args("partner:word summary:text?"), "case"),
        Command("handover-status", _args("status:word case:case?"), "any"),
        Command("accept", _args(""), "handover", frozenset({"partner"})),
        Command("decline", _args("reason:text?"), "handover", frozenset({"partner"})),
        Command("help", _args(""), "any", frozenset({"counsellor", "outreach", "partner"})),
    )
}


class CommandError(Exception):
    """A user-facing problem with a command; ``key`` is a text key, ``values`` its fields."""

    def __init__(self, key: str, **values: str) -> None:
        self.key = key
        self.values = values
        super().__init__(key)


@dataclass(frozen=True)
class Parsed:
    command: Command
    values: dict[str, str]


def is_command(body: str) -> bool:
    return body.lstrip().startswith(PREFIX) and len(body.strip()) > 1


def parse(body: str) -> Parsed:
    """Parse ``!name args…``; raises CommandError with a helpful key on any problem."""
    head, _, rest = body.strip()[len(PREFIX) :].partition(" ")
    name = head.lower()
    command = COMMANDS.get(name)
    if command is None:
        raise CommandError("commands.unknown", name=name)
    values: dict[str, str] = {}
    rest = rest.strip()
    for arg in command.args:
        if arg.kind == "text":
            token, rest = rest, ""
        else:
            token, _, rest = rest.partition(" ")
            rest = rest.strip()
        if not token:
            if arg.optional:
                continue
            raise CommandError("commands.missing_argument", usage=command.usage, argument=arg.name)
        values[arg.name] = _check(command, arg, token)
    if rest:
        raise CommandError("commands.too_many_arguments", usage=command.usage)
    return Parsed(command, values)


def _check(command: Command, arg: Arg, token: str) -> str:
    if arg.kind == "case":
        match = CASE_RE.match(token)
        if not match:
            raise CommandError("commands.bad_case", usage=command.usage, value=token)
        return match[1]
    if arg.kind == "user":
        if not USER_RE.match(token):
            raise CommandError("commands.bad_user", usage=command.usage, value=token)
        return token
    if arg.kind == "word":
        return token.lower()
    return token
