"""Staff commands at the edge: parse, authorise, run, answer.

Only staff (the ``staff`` table, roles set with ``keerpunt staff add``) may use commands; a
concern may give someone a role in its own rooms (a partner's intake staff in their handover
room). Anyone else gets ``commands.not_staff``. Everything runs inside the router's turn: the
handled-event record, what the command changes and the answer commit together, so a command
runs exactly once. Answers are notices replying to the command, in the room (and thread)
where it was given. In a case room the visitor reads along: a command that worked is answered
by what the visitor is told (and by the card in the queue room), so only problems get a staff
reply there.

A command that fails unexpectedly (a bug, an outage) changes nothing: the router rolls the
turn back and calls ``failed``, which answers with a short reference that is also in the log
(as mautrix's command processor does), so the counsellor is never left waiting in silence.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

from bots.commands.table import Call, Command, CommandTable, Context, Parsed, Place, is_command
from bots.db import Stores
from bots.errors import UserError
from bots.ids import EventID, RoomID, UserID
from bots.matrix.content import notice_reply, staff_text
from bots.texts import Language, text
from bots.turn import Turn, Where

log = logging.getLogger(__name__)

# A concern's say on who someone is in one of its rooms ("partner"), or None.
RoleHook = Callable[[Where, UserID], Awaitable[str | None]]
STAFF = "staff"


@dataclass(frozen=True)
class Sender:
    """Who gave a command: their role, and whether a concern gave it in this room only (a
    partner's intake staff in their handover room), rather than the staff table."""

    role: str | None
    here: bool = False


def help_text(table: CommandTable, language: Language) -> str:
    """``!help``, generated from the command table."""
    lines = [text(language, "commands.help_header")]
    for command in table:
        about = text(language, command.help_key, **command.help_values)
        if command.aliases:
            about = f"{about} {text(language, 'commands.also', names=command.names)}"
        lines.append(text(language, "commands.help_line", usage=command.usage, help=about))
    return "\n".join(lines)


async def reply(
    stores: Stores, room_id: RoomID, body: str, reply_to: EventID, now: int, *, thread_root: EventID | None = None
) -> None:
    """Queue a notice that answers ``reply_to`` (in its thread, if it has one)."""
    await stores.outbox.enqueue(room_id, "m.room.message", notice_reply(body, reply_to, thread_root=thread_root), now)


class StaffCommands:
    def __init__(
        self,
        stores: Stores,
        commands: Sequence[Command],
        roles: Sequence[RoleHook],
        language: Language,
        places: Mapping[str, Place],
        everyone: frozenset[str],
        local: frozenset[str] = frozenset(),
    ) -> None:
        """``places`` by name, the staff rooms' (``STAFF``) among them; ``everyone``: every role;
        ``local``: roles that count only where a concern's role hook gives them."""
        self.stores = stores
        self.language = language
        self.roles = tuple(roles)
        self.places = places
        # Rooms only staff are in (a direct room: one staff member and the bot); anywhere else a
        # visitor or a partner reads along.
        self.staff_rooms = places[STAFF].kinds or frozenset()
        self.local = local

        async def show_help(call: Call) -> str:
            return help_text(self.table, self.language)

        self.table = CommandTable([*commands, Command("help", (), STAFF, show_help, everyone)])

    async def sender(self, where: Where, user: UserID) -> Sender:
        """Staff by the staff table, or what a concern makes them in its room.

        A local role (a partner's intake staff, listed in the directory or local accounts made
        for it) counts only where its concern says so; anywhere else they are nobody.
        """
        for hook in self.roles:
            found = await hook(where, user)
            if found is not None:
                return Sender(found, here=True)
        member = await self.stores.staff.get(user)
        if member is None or member.role in self.local:
            return Sender(None)
        return Sender(member.role)

    async def on_message(self, turn: Turn) -> None:
        """Inside the turn's transaction: run the command in ``turn`` (if it is one) and answer."""
        body = turn.body
        if body is None or not is_command(body):
            return
        context = Context.of(turn.event_id, turn.content)
        sender = await self.sender(turn.where, turn.sender)
        try:
            answer = await self._run(turn, sender.role, body, context)
        except UserError as exc:
            answer = text(self.language, exc.key, **exc.values)
        if answer:
            await self._answer(turn, sender, answer, context)

    async def _answer(self, turn: Turn, sender: Sender, answer: str, context: Context) -> None:
        role = sender.role
        if turn.where.kind in self.staff_rooms or sender.here:
            # In a staff room; or to someone a concern made staff in this room (a partner's
            # answer about their own handover, in its room).
            await reply(
                self.stores, turn.where.room_id, answer, context.event_id, turn.now, thread_root=context.thread_root
            )
        elif role is not None and turn.where.case is not None:
            # Typed where the visitor (or a partner) reads along: the answer is for staff alone,
            # so it goes under the case's card in the queue room, mentioning the sender.
            await self.stores.posts.add(turn.where.case.id, "thread", staff_text(answer, mention=turn.sender), turn.now)
        # Anyone else in a case or handover room gets no answer: it could only reveal something.

    async def _run(self, turn: Turn, role: str | None, body: str, context: Context) -> str | None:
        if role is None:
            raise UserError("commands.not_staff")
        parsed = self.table.parse(body)
        self._allowed(parsed, role, turn.where)
        return await parsed.command.run(Call(turn, context, parsed.values))

    def _allowed(self, parsed: Parsed, role: str, where: Where) -> None:
        command = parsed.command
        if role not in command.roles:
            raise UserError("commands.not_staff")
        place = self.places[command.where]
        if not place.allows(where.kind):
            raise UserError(place.refusal)

    async def failed(self, turn: Turn, error: BaseException) -> None:
        """After the turn rolled back: record the event as failed and tell the sender, with a
        reference that is also in the log. Raises (the router retries) if even that fails."""
        ref = secrets.token_hex(3)
        log.error("A staff command failed unexpectedly (ref %s)", ref, exc_info=error)
        async with self.stores.transaction():
            if not await self.stores.handled.record(turn.event_id, turn.where.room_id, "failed", turn.now):
                return
            context = Context.of(turn.event_id, turn.content)
            body = text(self.language, "commands.failed", ref=ref)
            await reply(
                self.stores, turn.where.room_id, body, context.event_id, turn.now, thread_root=context.thread_root
            )
