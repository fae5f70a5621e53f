"""The real stack for the widget's browser tests: Synapse (session fixture), the bots in this
event loop, the portal (with the widget's routes) on a free port, and Debian's Chromium.

Nothing is faked: the browser talks to the portal, the portal forwards /api/ to the bots, and
the widget talks Matrix to the test Synapse. The widget must be built (`make -C widget build`);
the tests fail, not skip, when it is not.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from playwright.async_api import Browser, BrowserContext, Page, Request, async_playwright

from bots.ids import RoomID, UserID
from keerpunt.config import Config
from keerpunt.config.loader import _merge
from keerpunt.testing import SynapseProcess, create_postgres_database, drop_postgres_database, free_port
from portal.app import create_app
from portal.widget import DIST

from ..conftest import POSTGRES_URL
from ..integration.bots.harness import InProcessBots, bots_config
from ..matrix_clients import ClientFactory, TestUser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# The neutral site of the quick exit; the tests intercept it and answer themselves.
NEUTRAL_URL = "https://neutral.test/weer"
# A partner's page that embeds the widget (allowed in frame-ancestors) lives on 127.0.0.2, a
# foreign site on 127.0.0.3: other origins, still loopback (Chromium's private network rules
# would block a made-up public host from loading the widget from 127.0.0.1).
HOST_IP = "127.0.0.2"
EVIL_IP = "127.0.0.3"
AXE = Path(__file__).resolve().parents[2] / "widget" / "node_modules" / "axe-core" / "axe.min.js"


def require_build() -> None:
    if not (DIST / "keerpunt-widget.json").is_file():
        pytest.fail("the widget is not built: run `make -C widget build` (make setup does it)")


class Sites:
    """Plain pages on other origins (a partner's site, a foreign site), set by each test."""

    def __init__(self) -> None:
        self.pages: dict[tuple[str, str], str] = {}
        self.origins: dict[str, str] = {}
        self.runners: list[web.AppRunner] = []

    async def start(self) -> None:
        for name, ip in (("host", HOST_IP), ("evil", EVIL_IP)):
            app = web.Application()
            app.router.add_get("/{path:.*}", self.handle)
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            site = web.TCPSite(runner, ip, 0)
            await site.start()
            port = runner.addresses[0][1]
            self.origins[name] = f"http://{ip}:{port}"
            self.runners.append(runner)

    async def handle(self, request: web.Request) -> web.Response:
        origin = f"http://{request.host}"
        body = self.pages.get((origin, request.path))
        if body is None:
            raise web.HTTPNotFound()
        # No keep-alive: no connection is left open when the test's servers stop.
        response = web.Response(text=body, content_type="text/html")
        response.force_close()
        return response

    def serve(self, name: str, path: str, body: str) -> str:
        self.pages[(self.origins[name], path)] = body
        return self.origins[name] + path

    async def stop(self) -> None:
        for runner in self.runners:
            await runner.cleanup()
        await asyncio.sleep(0.1)  # let the loop close the transports it just shut


@dataclass
class Stack:
    config: Config
    bots: InProcessBots
    portal_url: str
    synapse: SynapseProcess
    http: aiohttp.ClientSession
    sites: Sites

    @property
    def homeserver(self) -> str:
        return self.config.homeserver.public_url.rstrip("/")

    @property
    def bot_token(self) -> str:
        service = self.bots.service
        assert service is not None and service.session is not None
        return service.session.access_token

    async def matrix(self, method: str, path: str, token: str, body: Any = None) -> tuple[int, Any]:
        async with self.http.request(
            method, self.homeserver + path, json=body, headers={"Authorization": f"Bearer {token}"}
        ) as resp:
            return resp.status, await resp.json(content_type=None)

    async def invite(self, room_id: RoomID | str, user_id: UserID | str) -> None:
        """What the bot does when a counsellor claims a case (issue 4): invite into the case room."""
        status, body = await self.matrix(
            "POST", f"/_matrix/client/v3/rooms/{room_id}/invite", self.bot_token, {"user_id": user_id}
        )
        assert status == 200, body


@dataclass
class Watch:
    """Every request the page makes, and the hosts it went to."""

    requests: list[str] = field(default_factory=list)

    def record(self, request: Request) -> None:
        self.requests.append(request.url)


@pytest.fixture
def widget_built() -> None:
    require_build()


@pytest.fixture
def bots_database(synapse: SynapseProcess) -> Iterator[str]:
    if synapse.backend != "postgres":
        yield "sqlite:bots/bots.db"
        return
    url = create_postgres_database(POSTGRES_URL, "keerpunt_bots")
    yield url
    drop_postgres_database(POSTGRES_URL, url)


@pytest.fixture
def extra_config() -> dict[str, Any]:
    """Config overrides for one test's stack (override this fixture in a test module)."""
    return {}


@pytest.fixture
async def stack(
    widget_built: None, synapse: SynapseProcess, tmp_path: Path, bots_database: str, extra_config: dict[str, Any]
) -> AsyncIterator[Stack]:
    sites = Sites()
    await sites.start()
    portal_port, api_port = free_port(), free_port()
    portal_url = f"http://127.0.0.1:{portal_port}"
    config = bots_config(
        synapse,
        tmp_path / "data",
        bots_database,
        _merge(
            {
                "bots": {"api": {"port": api_port, "allowed_origins": [portal_url]}},
                "portal": {
                    "port": portal_port,
                    "public_url": portal_url,
                    "api_url": f"http://127.0.0.1:{api_port}",
                    "quick_exit_url": NEUTRAL_URL,
                    "frame_ancestors": [sites.origins["host"]],
                },
            },
            extra_config,
        ),
    )
    bots = InProcessBots(config)
    await bots.start()
    app = create_app(config)  # the portal serves the widget itself (portal/widget.py)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", portal_port).start()
    http = aiohttp.ClientSession()
    try:
        yield Stack(config, bots, portal_url, synapse, http, sites)
    finally:
        await http.close()
        await sites.stop()
        await runner.cleanup()
        await bots.stop()


@pytest.fixture
async def browser(tmp_path: Path) -> AsyncIterator[Browser]:
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            await browser.close()


@pytest.fixture
async def context(browser: Browser) -> AsyncIterator[BrowserContext]:
    """A fresh profile (a new context is a new, empty, in-memory profile)."""
    ctx = await browser.new_context(viewport={"width": 400, "height": 760}, locale="nl-NL")
    await ctx.route("https://neutral.test/**", fulfil_neutral)
    try:
        yield ctx
    finally:
        await ctx.close()


async def fulfil_neutral(route: Any) -> None:
    await route.fulfill(
        status=200, content_type="text/html", body="<!doctype html><title>Weer</title><h1>Het weer</h1>"
    )


@pytest.fixture
async def page(context: BrowserContext) -> AsyncIterator[Page]:
    page = await context.new_page()
    page.on("console", lambda msg: print(f"[console.{msg.type}] {msg.text}"))
    page.on("pageerror", lambda exc: print(f"[pageerror] {exc}"))
    yield page


@pytest.fixture
async def counsellor(clients: ClientFactory) -> TestUser:
    """A cross-signed counsellor device (what Element does for real staff)."""
    return await clients.user("counsellor", cross_sign=True)


async def wait_for(check: Any, *, within: float = 30.0, what: str = "condition") -> Any:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        value = check()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {within:.0f}s waiting for {what}")
        await asyncio.sleep(0.05)
