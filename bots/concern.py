"""What a concern plugs into the bot, and the shared parts it is built from.

A concern (sessions, return codes, queue, handover, outreach, statistics) is one folder. Its
``Plug`` reads and checks what it needs from the config before anything starts (a mistake is
a configuration error), then ``build`` makes its handlers, domain and workers from ``Parts``
and returns a ``Concern``: the rooms it owns, its hooks on room events, its staff commands,
its background workers, its routes under the visitor API and its say when a visitor ends the
chat. ``bots.app`` assembles the concerns in a fixed order; adding one is a new folder plus
one line there.

Hooks that parts built *before* the concerns call (the trust policy on a changed identity,
the session manager when a visitor ends the chat) go through ``Hooks``: made with the app,
handed to those parts when they are built, and filled with every concern's hooks once the
concerns are built, as ``Wakeups`` is with their workers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import ClassVar, Protocol

from aiohttp import web

from bots.clock import Clock
from bots.commands.dispatch import RoleHook
from bots.commands.table import Command
from bots.crypto.ports import Trust
from bots.db import Stores
from bots.db.case import Case
from bots.declarations import Declared
from bots.homeserver.ports import Homeserver
from bots.ids import RoomID, UserID
from bots.limits import FirstContactLimits
from bots.matrix.ports import MatrixClient
from bots.matrix.staff_rooms import StaffRooms
from bots.networks import NetworkMemory
from bots.texts import Language
from bots.triage import TriageDefinition
from bots.turn import Membership, Turn, Where
from bots.wakeups import Wakeups
from keerpunt.base.config import Config
from keerpunt.base.hours import OpeningHours
from keerpunt.base.service import backoff_loop, wake_loop

# The concern's rooms: where ``room_id`` is, when it is one of them.
RoomLookup = Callable[[RoomID], Awaitable[Where | None]]
# An event of the visitor in their case room; True when it was this concern's (the rest of the
# chain does not see it).
VisitorHook = Callable[[Turn], Awaitable[bool]]
# Any message (the visitor's or anyone else's) in a room of ``Turn.where``, before the visitor
# hooks or the staff commands see it; it never takes the event from them.
MessageHook = Callable[[Turn], Awaitable[None]]
# Someone joined or left a room of ``Turn.where``; True when the hook acted on it.
MemberHook = Callable[[Turn, Membership], Awaitable[bool]]
# An ``m.reaction`` by someone who is not the visitor (a 👍 on a card).
ReactionHook = Callable[[Turn], Awaitable[None]]
# Users whose device list changed (a device signed in or out) in a room the bot shares.
DevicesHook = Callable[[list[UserID]], Awaitable[None]]
# A user's cross-signing identity is not the pinned one any more (their devices are no longer
# trusted); the new master key.
IdentityHook = Callable[[UserID, str], Awaitable[None]]
# A user's cross-signing identity was pinned: the first one they ever had, or the first after
# ``keerpunt staff reset-identity``. Called inside whatever asked for their keys: only record.
PinnedHook = Callable[[UserID], Awaitable[None]]
# The visitor ends the chat (the case, their token, why: "ended" or "quick_exit"): True when the
# concern keeps the case (a return code makes it dormant); it is then neither closed nor erased.
EndHook = Callable[[Case, str, str], Awaitable[bool]]


class Worker(Protocol):
    """A background task: ``run`` forever (until cancelled); ``wake`` to look again at once."""

    name: str

    def wake(self) -> None: ...

    async def run(self) -> None: ...


class Reconciler:
    """A worker that makes Synapse (or the visitors) catch up with what the database decided.

    Each round (``step``) looks at the stored state only, so a restart, or a SIGKILL, simply
    carries on where the last round stopped; it returns True while something is still on its
    way (come back after ``busy`` seconds), and runs again after ``idle`` seconds or at once
    when woken. Failures back off up to ``cap`` (``keerpunt.base.service.wake_loop``).
    """

    name = ""
    title = ""  # for the log: "The queue's cards failed; retrying …"
    busy = 0.25
    idle = 2.0
    cap = 30.0

    def __init__(self) -> None:
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        await wake_loop(self.title or self.name, self.step, self._wake, busy=self.busy, idle=self.idle, cap=self.cap)

    async def step(self) -> bool:
        raise NotImplementedError


class Periodic:
    """A worker whose ``step`` waits by itself (a timer, or until it is needed), run again and
    again with a capped back-off after failures."""

    def __init__(self, name: str, step: Callable[[], Awaitable[None]]) -> None:
        self.name = name
        self.step = step

    def wake(self) -> None:
        """Nothing to do: a periodic worker keeps its own time."""

    async def run(self) -> None:
        await backoff_loop(self.name, self.step)


class Hooks:
    """The concerns' hooks, for the parts made before the concerns are (see the module doc)."""

    def __init__(self) -> None:
        self._identity: list[IdentityHook] = []
        self._pinned: list[PinnedHook] = []
        self._ending: list[EndHook] = []

    def add(self, concern: Concern) -> None:
        self._identity.extend(concern.identity)
        self._pinned.extend(concern.pinned)
        self._ending.extend(concern.ending)

    async def identity_changed(self, user: UserID, master: str) -> None:
        for hook in self._identity:
            await hook(user, master)

    async def identity_pinned(self, user: UserID) -> None:
        for hook in self._pinned:
            await hook(user)

    async def ending(self, case: Case, token: str, reason: str) -> bool:
        """Whether a concern keeps the case its visitor is ending (the first that does)."""
        for hook in self._ending:
            if await hook(case, token, reason):
                return True
        return False


@dataclass(frozen=True)
class Parts:
    """Everything the concerns share, built once by ``bots.app``."""

    config: Config
    stores: Stores
    clock: Clock
    wakeups: Wakeups
    admin: Homeserver
    client: MatrixClient
    trust: Trust
    hours: OpeningHours
    definition: TriageDefinition
    # The staff rooms by kind ("space", "queue"), made before any concern is built, and what
    # makes them (a staff member's direct room is made when needed).
    rooms: Mapping[str, RoomID]
    staff_rooms: StaffRooms
    # Per-client limits that span concerns (the session API links a case to its client, the
    # triage charges an urgent answer to it); in memory only.
    limits: FirstContactLimits
    hooks: Hooks
    # Dismissed networks and each case's network, as hashes under a daily key (bots.networks):
    # the session API records and reads them, ``!dismiss`` adds one; in memory only.
    networks: NetworkMemory

    @property
    def bot(self) -> UserID:
        return UserID(self.config.bot_user_id)

    @property
    def staff_language(self) -> Language:
        return self.config.languages.default


@dataclass(frozen=True)
class Concern:
    name: str
    rooms: tuple[RoomLookup, ...] = ()
    messages: tuple[MessageHook, ...] = ()
    visitor: tuple[VisitorHook, ...] = ()
    members: tuple[MemberHook, ...] = ()
    reactions: tuple[ReactionHook, ...] = ()
    roles: tuple[RoleHook, ...] = ()
    identity: tuple[IdentityHook, ...] = ()
    pinned: tuple[PinnedHook, ...] = ()
    devices: tuple[DevicesHook, ...] = ()
    commands: tuple[Command, ...] = ()
    workers: tuple[Worker, ...] = ()
    # Routes under /api/v1 of the visitor API (bots.visitors.http), served after the first sync.
    routes: tuple[web.RouteDef, ...] = ()
    ending: tuple[EndHook, ...] = ()
    # What the concern built that the operator's tools and the tests drive directly (the
    # session manager, the retention task): ``Assembled.service`` finds them by type.
    services: tuple[object, ...] = ()


class Plug(Protocol):
    """A concern before it is built: made at prepare time from the config alone. What it
    declares (its rooms, roles, places and texts) is known even before that."""

    declares: ClassVar[Declared]

    def __init__(self, config: Config, definition: TriageDefinition) -> None: ...

    async def build(self, parts: Parts) -> Concern: ...
