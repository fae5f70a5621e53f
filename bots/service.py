"""The bots process: the system bot and the visitor-session HTTP API.

Start order matters (DESIGN.md rule 1): the bot's device is cross-signed before it joins,
creates or sends anything —

database → bot account/session → nio client with its persistent crypto store and uploaded
device keys → cross-signing identity (created once) and device signature, verified through
``/keys/query`` (refuse to run otherwise) → repair half-created cases → staff rooms → first
full sync handled → background tasks (sync, outbox, queue worker, retention) → session API.
The health endpoint answers only once all of that is done.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import aiohttp
from aiohttp import web

from bots.clock import Clock, SystemClock
from bots.commands.handler import CommandHandler
from bots.crypto.cross_signing import CrossSigningKeys, ensure_device_cross_signed
from bots.crypto.trust import TrustPolicy
from bots.db import Database, create_database
from bots.db.bot_state import BotStateStore
from bots.db.case import CaseStore
from bots.db.case_log import CaseLogStore
from bots.db.handled_event import HandledEventStore
from bots.db.handover import HandoverStore
from bots.db.pending_event import PendingEventStore
from bots.db.pinned_identity import PinnedIdentityStore
from bots.db.queue_case import QueueStore
from bots.db.staff import StaffStore
from bots.db.staff_post import StaffPostStore
from bots.db.system_room import SystemRoomStore
from bots.handover.directory import configured_directory
from bots.handover.domain import HandoverDomain
from bots.handover.handler import HandoverHandler
from bots.handover.rooms import HandoverMatrix
from bots.handover.worker import HandoverWorker
from bots.homeserver.account import BotSession, ensure_bot_session, store_dir
from bots.homeserver.admin import SynapseAdmin
from bots.ids import RoomID, UserID
from bots.matrix.client import BotClient, open_client
from bots.matrix.outbox import OutboxSender
from bots.matrix.sync import SyncLoop
from bots.queue.domain import QueueDomain
from bots.queue.rooms import StaffMatrix
from bots.queue.staff_rooms import StaffRooms
from bots.queue.visitor import VisitorHandler
from bots.queue.worker import NotifyingOutbox, QueueWorker
from bots.router import EventRouter
from bots.sessions.api import SessionsApi
from bots.sessions.domain import SessionManager, VisitorNames
from bots.sessions.ratelimit import SessionRateLimiter
from bots.sessions.retention import RetentionTask
from bots.texts import text
from bots.triage import load_definition
from keerpunt.config import Config, read_secret
from keerpunt.hours import OpeningHours
from keerpunt.service import Service, backoff_loop

log = logging.getLogger(__name__)

FIRST_SYNC_ATTEMPTS = 8


class BotsService(Service):
    name = "bots"

    def __init__(self, config: Config, *, clock: Clock | None = None) -> None:
        self.config = config
        self.clock: Clock = clock or SystemClock()
        self.hours = OpeningHours(config.hours)
        # Read and checked before anything starts: a mistake is a configuration error (exit 78).
        self.definition = load_definition()
        self.directory = configured_directory(config, self.definition)
        self.db: Database | None = None
        self.http: aiohttp.ClientSession | None = None
        self.runner: web.AppRunner | None = None
        self.session: BotSession | None = None
        self.client: BotClient | None = None
        self.cross_signing: CrossSigningKeys | None = None
        self.rooms: dict[str, RoomID] = {}
        self.sessions: SessionManager | None = None
        self.sender: OutboxSender | None = None
        self.sync: SyncLoop | None = None
        self.retention: RetentionTask | None = None
        self.queue: QueueWorker | None = None
        self.handover: HandoverWorker | None = None
        self.tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        cfg = self.config
        self.db = db = create_database(cfg)
        await db.start()
        self.http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))
        shared_secret = read_secret(cfg, cfg.homeserver.registration_shared_secret_file)
        admin = SynapseAdmin(cfg.homeserver.internal_url, session=self.http, shared_secret=shared_secret, attempts=10)
        self.session = session = await ensure_bot_session(cfg, admin)
        admin.access_token = session.access_token
        await admin.override_ratelimit(session.user_id)

        # Crypto first: nothing may be created, joined or sent by an unsigned device.
        sdir = store_dir(cfg)
        self.client = client = await open_client(cfg.homeserver.internal_url, session, sdir)
        self.cross_signing = await ensure_device_cross_signed(admin, session.user_id, session.device_id, sdir)
        log.info("Device %s is cross-signed by %s", session.device_id, session.user_id)

        cases, outbox = CaseStore(db), NotifyingOutbox(db)
        trust = TrustPolicy(admin, PinnedIdentityStore(db), self.clock)
        self.sessions = SessionManager(
            admin,
            cases,
            self.clock,
            bot=UserID(session.user_id),
            server_name=cfg.homeserver.server_name,
            case_room_days=cfg.retention.case_room_days,
            concurrent_starts=cfg.bots.api.concurrent_session_starts,
            spare_accounts=cfg.bots.api.spare_accounts,
            spare_names=VisitorNames(
                text(cfg.languages.default, "visitor.display_name"), text(cfg.languages.default, "visitor.device_name")
            ),
        )
        system_rooms = SystemRoomStore(db)
        await self.sessions.repair(set((await system_rooms.all()).values()))
        staff = StaffStore(db)
        self.rooms = await StaffRooms(cfg, admin, system_rooms, staff).ensure()

        handled = HandledEventStore(db)
        self.sender = sender = OutboxSender(client, outbox, trust, self.clock)
        self.queue, self.handover, router = self._wire_queue(db, admin, cases, outbox, staff, handled, trust)
        worker = self.queue
        outbox.listeners.append(worker.wake)
        outbox.listeners.append(self.handover.wake)
        self.sync = SyncLoop(client, BotStateStore(db), router, trust)
        await self.sync.load()
        await self._first_sync()
        self.retention = RetentionTask(
            admin, cases, outbox, self.clock, handled=handled, pins=PinnedIdentityStore(db), handovers=HandoverStore(db)
        )
        self.tasks = [
            asyncio.create_task(backoff_loop("sync", self.sync.step), name="bots-sync"),
            asyncio.create_task(sender.run(), name="bots-outbox"),
            asyncio.create_task(worker.run(), name="bots-queue"),
            asyncio.create_task(self.handover.run(), name="bots-handover"),
            asyncio.create_task(backoff_loop("retention", self.retention.step), name="bots-retention"),
            asyncio.create_task(backoff_loop("spare accounts", self.sessions.spares.step), name="bots-spares"),
        ]

        limits = cfg.bots.rate_limit
        limiter = SessionRateLimiter(limits.per_client_per_hour, limits.global_per_minute, self.clock)
        api = SessionsApi(cfg, self.sessions, limiter, hours=self.hours, clock=self.clock, ended=worker.wake)
        self.runner = web.AppRunner(api.make_app(), access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, cfg.bots.api.host, cfg.bots.api.port)
        await site.start()
        log.info("Session API listening on %s:%d", cfg.bots.api.host, cfg.bots.api.port)

    def _wire_queue(
        self,
        db: Database,
        admin: SynapseAdmin,
        cases: CaseStore,
        outbox: NotifyingOutbox,
        staff: StaffStore,
        handled: HandledEventStore,
        trust: TrustPolicy,
    ) -> tuple[QueueWorker, HandoverWorker, EventRouter]:
        """Triage, the queue, handovers and the staff commands, wired to the event router."""
        cfg = self.config
        assert self.client is not None and self.sender is not None and self.sessions is not None
        queue, posts, case_log = QueueStore(db), StaffPostStore(db), CaseLogStore(db)
        definition, directory = self.definition, self.directory
        staff_language = cfg.languages.default
        domain = QueueDomain(
            cases=cases,
            queue=queue,
            log=case_log,
            posts=posts,
            outbox=outbox,
            definition=definition,
            settings=cfg.queue,
            staff_language=staff_language,
            case_room_days=cfg.retention.case_room_days,
        )
        matrix = StaffMatrix(admin, UserID(cfg.bot_user_id), cfg.homeserver.server_name, self.rooms["space"])
        sender = self.sender
        worker = QueueWorker(
            db,
            cases=cases,
            queue=queue,
            posts=posts,
            outbox=outbox,
            domain=domain,
            matrix=matrix,
            definition=definition,
            hours=self.hours,
            settings=cfg.queue,
            staff_language=staff_language,
            queue_room=self.rooms["queue"],
            portal_url=cfg.portal.public_url,
            clock=self.clock,
            sent=sender.wake,
            erase=self.sessions.erase,
        )

        handovers = HandoverStore(db)
        handover_domain = HandoverDomain(
            store=handovers,
            queue=queue,
            staff=staff,
            log=case_log,
            posts=posts,
            outbox=outbox,
            directory=directory,
            settings=cfg.handover,
            staff_language=staff_language,
        )
        client = self.client
        system_rooms = set(self.rooms.values())

        async def known_rooms() -> set[RoomID]:
            return system_rooms | await cases.room_ids()

        def sees(room_id: RoomID, users: set[UserID]) -> bool:
            room = client.rooms.get(room_id)
            return room is not None and users <= set(room.users)

        handover_worker = HandoverWorker(
            db,
            cases=cases,
            queue=queue,
            store=handovers,
            domain=handover_domain,
            matrix=HandoverMatrix(admin),
            directory=directory,
            bot=UserID(cfg.bot_user_id),
            server_name=cfg.homeserver.server_name,
            allowlist=cfg.synapse.federation_allowlist,
            known_rooms=known_rooms,
            sees=sees,
            clock=self.clock,
            sent=sender.wake,
        )

        def changed() -> None:
            sender.wake()
            worker.wake()
            handover_worker.wake()

        handover = HandoverHandler(
            db, store=handovers, domain=handover_domain, handled=handled, clock=self.clock, changed=changed
        )

        visitor = VisitorHandler(
            db,
            cases=cases,
            queue=queue,
            log=case_log,
            handled=handled,
            outbox=outbox,
            domain=domain,
            definition=definition,
            hours=self.hours,
            portal_url=cfg.portal.public_url,
            clock=self.clock,
            changed=changed,
            handover=handover,
        )
        commands = CommandHandler(
            db,
            cases=cases,
            queue=queue,
            staff=staff,
            handled=handled,
            outbox=outbox,
            domain=domain,
            handovers=handover_domain,
            definition=definition,
            settings=cfg.queue,
            staff_language=staff_language,
            clock=self.clock,
            changed=changed,
            redact=matrix.redact,
        )
        router = EventRouter(
            self.client,
            cases,
            handled,
            PendingEventStore(db),
            trust,
            visitor,
            self.clock,
            staff=commands,
            queue_room=self.rooms["queue"],
            handovers=handovers,
            handover=handover,
        )
        return worker, handover_worker, router

    async def _first_sync(self) -> None:
        assert self.sync is not None
        delay = 0.5
        for attempt in range(1, FIRST_SYNC_ATTEMPTS + 1):
            try:
                await self.sync.step()
                return
            except Exception:
                if attempt == FIRST_SYNC_ATTEMPTS:
                    raise
                log.exception("The first sync failed; retrying in %.1fs", delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10)

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.tasks = []
        if self.client is not None:
            await self.client.close()  # closes HTTP only: the device is never logged out
        if self.http is not None:
            await self.http.close()
        if self.db is not None:
            await self.db.stop()
