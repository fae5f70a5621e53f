"""The bots process: the system bot and the visitor-session HTTP API."""

from __future__ import annotations

import logging

import aiohttp
from aiohttp import web

from keerpunt.config import Config, read_secret
from keerpunt.service import Service

from .account import BotSession, ensure_bot_session
from .db import Database, create_database
from .db.staff import StaffStore
from .db.system_room import SystemRoomStore
from .ids import RoomID
from .provision import StaffRooms
from .synapse_admin import SynapseAdmin

log = logging.getLogger(__name__)


class BotsService(Service):
    name = "bots"

    def __init__(self, config: Config) -> None:
        self.config = config
        self.db: Database | None = None
        self.http: aiohttp.ClientSession | None = None
        self.runner: web.AppRunner | None = None
        self.session: BotSession | None = None
        self.rooms: dict[str, RoomID] = {}

    async def start(self) -> None:
        cfg = self.config
        self.db = create_database(cfg)
        await self.db.start()
        self.http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))
        shared_secret = read_secret(cfg, cfg.homeserver.registration_shared_secret_file)
        admin = SynapseAdmin(cfg.homeserver.internal_url, session=self.http, shared_secret=shared_secret, attempts=10)
        self.session = await ensure_bot_session(cfg, admin)
        admin.access_token = self.session.access_token
        await admin.override_ratelimit(self.session.user_id)
        staff_rooms = StaffRooms(cfg, admin, SystemRoomStore(self.db), StaffStore(self.db))
        self.rooms = await staff_rooms.ensure()
        self.runner = web.AppRunner(self.make_app(), access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, cfg.bots.api.host, cfg.bots.api.port)
        await site.start()
        log.info("Session API listening on %s:%d", cfg.bots.api.host, cfg.bots.api.port)

    def make_app(self) -> web.Application:
        app = web.Application(client_max_size=16 * 1024)
        app.router.add_get("/api/v1/health", self.health)
        return app

    async def health(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
        if self.http is not None:
            await self.http.close()
        if self.db is not None:
            await self.db.stop()
