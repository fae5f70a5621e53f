"""The portal process (one worker of ``keerpunt run portal``)."""

from __future__ import annotations

import logging

from aiohttp import web

from keerpunt.base.config import Config
from keerpunt.base.service import Service
from keerpunt.site.folder import content_dir
from portal.app import create_app
from portal.runner import PortalRunner
from portal.site import Site, load_site

log = logging.getLogger(__name__)


class PortalService(Service):
    name = "portal"

    def __init__(self, config: Config, site: Site | None = None, *, reuse_port: bool = False) -> None:
        self.config = config
        self.reuse_port = reuse_port
        self.runner: PortalRunner | None = None
        # Load and check all content in the synchronous prepare step: a ContentError (a
        # ConfigError naming the file and field) stops `keerpunt run portal` before it starts.
        self.site: Site = site if site is not None else load_site(content_dir(config))

    async def start(self) -> None:
        self.runner = PortalRunner(create_app(self.config, self.site), access_log=None)
        await self.runner.setup()
        portal = self.config.portal
        # reuse_port: every worker process listens on the same port and the kernel spreads
        # the connections over them (SO_REUSEPORT). Off with one worker, so that a second
        # portal started by mistake fails with "address in use" instead of sharing the port.
        await web.TCPSite(self.runner, portal.host, portal.port, reuse_port=self.reuse_port or None).start()
        log.info("portal listening on %s", portal.public_url)

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
