"""The portal process."""

from __future__ import annotations

from aiohttp import web

from keerpunt.config import Config
from keerpunt.service import Service

from .app import create_app


class PortalService(Service):
    name = "portal"

    def __init__(self, config: Config) -> None:
        self.config = config
        self.runner: web.AppRunner | None = None

    async def start(self) -> None:
        self.runner = web.AppRunner(create_app(self.config), access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, self.config.portal.host, self.config.portal.port).start()

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
