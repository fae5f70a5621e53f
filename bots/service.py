"""The bots process: the system bot and the visitor-session HTTP API.

Start order matters (DESIGN.md rule 1): the bot's device is cross-signed before it joins,
creates or sends anything —

database → bot account/session → nio client with its persistent crypto store and uploaded
device keys → cross-signing identity (created once) and device signature, verified through
``/keys/query`` (refuse to run otherwise) → the bot assembled (``bots.app``: staff rooms,
then each concern, the sessions' repair of half-created cases first) → first full sync
handled → background tasks (sync, outbox, every concern's workers) → the visitor API. The health
endpoint answers only once all of that is done. ``stop`` undoes it in reverse.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import aiohttp
from aiohttp import web

from bots.app import App, Assembled
from bots.clock import Clock, SystemClock
from bots.crypto.cross_signing import CrossSigningKeys, ensure_device_cross_signed
from bots.crypto.trust import TrustPolicy
from bots.db import Database, Stores, create_database
from bots.homeserver.account import BotSession, ensure_bot_session, store_dir
from bots.homeserver.admin import SynapseAdmin
from bots.matrix.client import BotClient, open_client
from bots.matrix.sync import SyncFailed, SyncLoop
from bots.metrics import MetricsServer, count_api, timed_sync
from keerpunt.base.config import Config, read_secret
from keerpunt.base.service import Service, backoff_loop

log = logging.getLogger(__name__)

FIRST_SYNC_ATTEMPTS = 8


class BotsService(Service):
    name = "bots"

    def __init__(self, config: Config, *, clock: Clock | None = None) -> None:
        self.config = config
        self.clock: Clock = clock or SystemClock()
        # Read and checked before anything starts: a mistake is a configuration error (exit 78).
        self.app = App(config)
        self.db: Database | None = None
        self.http: aiohttp.ClientSession | None = None
        self.runner: web.AppRunner | None = None
        self.session: BotSession | None = None
        self.client: BotClient | None = None
        self.cross_signing: CrossSigningKeys | None = None
        self.bot: Assembled | None = None
        self.tasks: list[asyncio.Task[None]] = []
        self.metrics: MetricsServer | None = None

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

        stores = Stores.over(db)
        hooks = self.app.hooks
        trust = TrustPolicy(
            admin, stores.pins, self.clock, on_change=hooks.identity_changed, on_pinned=hooks.identity_pinned
        )
        self.bot = bot = await self.app.assemble(stores, client, admin, trust, self.clock)
        sync = SyncLoop(client, stores.bot_state, bot.router, trust, self.clock)
        await sync.load()
        await self._first_sync(sync)
        self.tasks = [
            asyncio.create_task(backoff_loop("sync", timed_sync(sync.step)), name="bots-sync"),
            asyncio.create_task(bot.sender.run(), name="bots-outbox"),
            *(asyncio.create_task(worker.run(), name=f"bots-{worker.name}") for worker in bot.workers),
        ]

        api = bot.api
        api.middlewares.insert(0, count_api)  # outermost: sees every answer, refusals included
        if cfg.bots.metrics_port:
            self.metrics = MetricsServer(db, cfg.bots.metrics_port)
            await self.metrics.start()
        self.runner = web.AppRunner(api, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, cfg.bots.api.host, cfg.bots.api.port)
        await site.start()
        log.info("Session API listening on %s:%d", cfg.bots.api.host, cfg.bots.api.port)

    async def _first_sync(self, sync: SyncLoop) -> None:
        delay = 0.5
        for attempt in range(1, FIRST_SYNC_ATTEMPTS + 1):
            try:
                await sync.step()
                return
            except Exception as exc:
                if attempt == FIRST_SYNC_ATTEMPTS:
                    raise
                if isinstance(exc, SyncFailed):
                    # Synapse answered with an error (e.g. a 500 right after the start-up repair
                    # purged a room the bot was in): no bug of ours, so no traceback.
                    log.warning("The first sync failed (%s); retrying in %.1fs", exc, delay)
                else:
                    log.exception("The first sync failed; retrying in %.1fs", delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10)

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
        if self.metrics is not None:
            await self.metrics.stop()
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
