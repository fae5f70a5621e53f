"""The stack the browser benchmarks run against: a test Synapse, the bots and the portal on
loopback, and (for the embedded widget) a partner's page on another origin."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from bots.service import BotsService
from keerpunt.base.config import merge
from portal.app import create_app
from portal.widget import DIST
from tests.support.browser import HOST_IP
from tests.support.synapse import SynapseProcess, start_synapse

# The benches measure speed, not abuse control: every visitor comes from 127.0.0.1.
RAISED_LIMITS = {
    "bots": {
        "rate_limit": {"per_client_per_hour": 10000, "global_per_minute": 10000, "restarts_per_client_per_hour": 10000}
    }
}


@asynccontextmanager
async def widget_stack(name: str, overrides: dict[str, Any] | None = None) -> AsyncIterator[SynapseProcess]:
    """Synapse (SQLite, real password hashing), the bots and the portal serving the built widget;
    everything stopped and its data dir removed on the way out."""
    if not (DIST / "keerpunt-widget.json").is_file():
        raise SystemExit("build the widget first: make -C widget build")
    tmp = Path(tempfile.mkdtemp(prefix=f"keerpunt-bench-{name}-"))
    synapse = start_synapse(tmp / "stack", real_password_hashing=True, overrides=merge(RAISED_LIMITS, overrides or {}))
    config = synapse.config
    bots = BotsService(config)
    runner: web.AppRunner | None = None
    try:
        await bots.start()
        runner = web.AppRunner(create_app(config), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, config.portal.host, config.portal.port).start()
        yield synapse
    finally:
        if runner is not None:
            await runner.cleanup()
        await bots.stop()
        synapse.stop()
        shutil.rmtree(tmp, ignore_errors=True)


@dataclass
class PartnerPage:
    url: str
    html: str = ""

    def embed(self, portal: str) -> None:
        """The page becomes a partner's page with Keerpunt's embed script."""
        self.html = (
            '<!doctype html><html lang="nl"><title>Partner</title><h1>Partner</h1>'
            f'<script src="{portal}/widget/embed.js" async></script></html>'
        )

    @property
    def origin(self) -> str:
        return self.url.rstrip("/")


@asynccontextmanager
async def partner_page() -> AsyncIterator[PartnerPage]:
    """A page on another origin (its origin must be in ``portal.frame_ancestors``)."""
    page = PartnerPage("")

    async def serve(_request: web.Request) -> web.Response:
        return web.Response(text=page.html, content_type="text/html")

    app = web.Application()
    app.router.add_get("/", serve)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, HOST_IP, 0).start()
    page.url = f"http://{HOST_IP}:{runner.addresses[0][1]}/"
    try:
        yield page
    finally:
        await runner.cleanup()
