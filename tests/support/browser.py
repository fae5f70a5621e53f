"""Debian's Chromium for the browser tests, and the real stack the widget's tests drive.

The stack: Synapse (session fixture), the bots in this event loop, the portal (with the
widget's routes) on a free port, and two plain sites on other loopback addresses. Nothing is
faked: the browser talks to the portal, the portal forwards /api/ to the bots, and the widget
talks Matrix to the test Synapse. The widget must be built (`make -C widget build`); the tests
fail, not skip, when it is not.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from playwright.async_api import Browser, async_playwright

from bots.ids import RoomID, UserID
from keerpunt.base.config import Config
from portal.widget import DIST

from .bots import InProcessBots
from .synapse import SynapseProcess

# Debian's Chromium, never a downloaded browser (DESIGN.md), for tests and benchmarks alike.
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
# The widget's own axe-core (widget/package.json); the portal's tests use the repository's.
AXE = Path(__file__).resolve().parents[2] / "widget" / "node_modules" / "axe-core" / "axe.min.js"


@asynccontextmanager
async def chromium(extra_args: Sequence[str] = ()) -> AsyncIterator[Browser]:
    """Debian's Chromium, headless, with the flags every test and benchmark uses (and `extra_args`)."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=[*CHROMIUM_ARGS, *extra_args]
        )
        try:
            yield browser
        finally:
            await browser.close()


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


async def fulfil_neutral(route: Any) -> None:
    """Answer the quick exit's neutral site with a page of its own (nothing leaves the machine)."""
    await route.fulfill(
        status=200, content_type="text/html", body="<!doctype html><title>Weer</title><h1>Het weer</h1>"
    )
