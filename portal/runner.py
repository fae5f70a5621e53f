"""Serving the portal app: cached pages are answered before aiohttp's routing and middleware.

Nearly every request is a GET for a page that was rendered at start-up. Routing it through
the application (URL dispatch, the error middleware, the response signal) costs about a fifth
of the CPU time of such a request; the page itself is a dictionary look-up. ``PortalRunner``
therefore puts one step in front of the application: a GET or HEAD for a cached page's path
gets that page (the same ``CachedPage.respond`` the route would call, with the same headers),
and every other request goes to the application unchanged. Parsing, keep-alive and response
framing stay aiohttp's own.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web

from portal import metrics
from portal.app import VIEWS_KEY
from portal.cache import CachedPage

RequestHandler = Callable[[web.BaseRequest], Awaitable[web.StreamResponse]]


def cached_first(pages: Mapping[str, CachedPage], routed: RequestHandler) -> RequestHandler:
    """A request handler that answers cached pages itself and hands everything else to ``routed``."""

    async def handle(request: web.BaseRequest) -> web.StreamResponse:
        if request.method in ("GET", "HEAD"):
            page = pages.get(request.path)
            if page is not None:
                return page.respond(request)
        return await routed(request)

    if not metrics.enabled():
        return handle

    async def counted(request: web.BaseRequest) -> web.StreamResponse:
        if request.method in ("GET", "HEAD") and request.path in pages:
            started = time.perf_counter()
            response = await handle(request)
            metrics.count("cached", response.status, time.perf_counter() - started)
            return response
        return await handle(request)

    return counted


class PortalRunner(web.AppRunner):
    """An ``AppRunner`` for ``create_app``'s application with the cached-page step in front."""

    async def setup(self) -> None:
        await super().setup()
        server = self.server
        assert server is not None  # set by setup()
        # Each connection reads the server's request_handler when it opens: set it before any site starts.
        server.request_handler = cached_first(self.app[VIEWS_KEY].pages, server.request_handler)
