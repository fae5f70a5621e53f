"""The composition root: the whole bot built from the config, in one place.

``App(config)`` prepares (synchronously, before anything starts): the triage definition and
each concern's own configuration, so a mistake is a configuration error, and the ``Hooks``
the trust policy is given. ``assemble`` then builds, from the started infrastructure (the
database, and the Matrix client, Synapse and device trust as the small typed interfaces of
``bots.matrix.ports``, ``bots.homeserver.ports`` and ``bots.crypto.ports``, and the clock): the
staff rooms, the shared ``Parts``, every concern, the staff command table, the router, the
outbox sender and the visitor API, and connects the wake-ups and hooks. The service feeds the
router from its sync loop. Tests build the bot through the same ``assemble`` (with a recording
Matrix and a fake clock) and find what it built through ``Assembled``.

Adding a concern is a new folder with a ``Plug`` and one line in ``PLUGS``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TypeVar

from aiohttp import web

from bots.clock import Clock
from bots.commands.dispatch import StaffCommands
from bots.concern import Concern, Hooks, Parts, Plug, Worker
from bots.crypto.ports import Trust
from bots.db import Stores
from bots.declarations import Declarations
from bots.feedback import Feedback
from bots.handover import Handovers
from bots.homeserver.ports import Homeserver
from bots.limits import FirstContactLimits
from bots.matrix.outbox import OutboxSender
from bots.matrix.ports import MatrixClient
from bots.matrix.staff_rooms import StaffRooms
from bots.networks import NetworkMemory
from bots.outreach import Outreach
from bots.queue import Queue
from bots.returning import Returning
from bots.router import Router
from bots.sessions import Sessions
from bots.shift import Shift
from bots.stats import Statistics
from bots.supervision import Supervision
from bots.triage import TriageDefinition, load_definition
from bots.vetted import VettedTexts
from bots.visitors.http import ApiEdge
from bots.wakeups import Wakeups
from keerpunt.base.config import Config
from keerpunt.base.hours import OpeningHours

# The concerns, in order. The order is the order of their hooks: the handover's consent
# question sees a visitor's message before the queue's triage dialog does, and the sessions'
# start-up repair runs before anything else is built.
PLUGS: tuple[type[Plug], ...] = (
    Sessions,
    Returning,
    Handovers,
    Queue,
    Shift,
    Supervision,
    VettedTexts,
    Outreach,
    Statistics,
    Feedback,
)

T = TypeVar("T")


def declarations(plugs: tuple[type[Plug], ...] = PLUGS) -> Declarations:
    """What the concerns declare, put together and checked; known without preparing them (so
    ``keerpunt staff add`` knows which rooms a new member joins)."""
    return Declarations([plug.declares for plug in plugs])


@dataclass(frozen=True)
class Assembled:
    parts: Parts
    concerns: tuple[Concern, ...]
    commands: StaffCommands
    router: Router
    sender: OutboxSender
    # The visitor API: every concern's routes (started after the first sync).
    api: web.Application

    @property
    def workers(self) -> Iterator[Worker]:
        for concern in self.concerns:
            yield from concern.workers

    def service(self, kind: type[T]) -> T:
        """What a concern built of ``kind`` (a service it declared, or a worker)."""
        for concern in self.concerns:
            for part in (*concern.services, *concern.workers):
                if isinstance(part, kind):
                    return part
        raise LookupError(f"no concern built a {kind.__name__}")


class App:
    def __init__(self, config: Config, *, plugs: tuple[type[Plug], ...] = PLUGS) -> None:
        self.config = config
        self.definition: TriageDefinition = load_definition()
        self.hours = OpeningHours(config.hours)
        # What the concerns declare, put together and checked before anything starts.
        self.declared = declarations(plugs)
        self.plugs: tuple[Plug, ...] = tuple(plug(config, self.definition) for plug in plugs)
        # Given to the trust policy when it is made, filled with every concern's hooks later.
        self.hooks = Hooks()

    async def assemble(
        self, stores: Stores, client: MatrixClient, admin: Homeserver, trust: Trust, clock: Clock
    ) -> Assembled:
        cfg = self.config
        wakeups = Wakeups()
        staff_rooms = StaffRooms(cfg, admin, stores.system_rooms, stores.staff, self.declared.layout)
        rooms = await staff_rooms.ensure()
        rate = cfg.bots.rate_limit
        limits = FirstContactLimits(
            clock, urgent_per_hour=rate.urgent_per_client_per_hour, restarts_per_hour=rate.restarts_per_client_per_hour
        )
        parts = Parts(
            cfg,
            stores,
            clock,
            wakeups,
            admin,
            client,
            trust,
            self.hours,
            self.definition,
            rooms,
            staff_rooms,
            limits,
            self.hooks,
            NetworkMemory(clock),
        )
        concerns = [await plug.build(parts) for plug in self.plugs]
        for concern in concerns:
            self.hooks.add(concern)
        declared = self.declared
        rows = [command for concern in concerns for command in concern.commands]
        declared.check(rows)
        hooks = [role for concern in concerns for role in concern.roles]
        commands = StaffCommands(
            stores, rows, hooks, parts.staff_language, declared.places, declared.everyone, declared.local
        )
        router = Router(stores, client, trust, clock, wakeups.changed, concerns, commands, declared.kinds)
        sender = OutboxSender(client, stores.outbox, trust, clock, sent=wakeups.sent)
        wakeups.add_sender(sender.wake)
        for concern in concerns:
            for worker in concern.workers:
                wakeups.add_worker(worker.wake)
        api = ApiEdge(cfg).make_app()
        api.add_routes([route for concern in concerns for route in concern.routes])
        return Assembled(parts, tuple(concerns), commands, router, sender, api)
