"""The portal application. (Foundation version: the full portal is issue 6.)"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web
from aiohttp.typedefs import Handler

from keerpunt.config import Config

log = logging.getLogger(__name__)

CONFIG_KEY = web.AppKey("config", Config)
HTTP_KEY = web.AppKey("http", aiohttp.ClientSession)

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'self'"
    ),
}

HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "te", "upgrade", "host", "content-length"}


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


async def home(request: web.Request) -> web.Response:
    return web.Response(text="<!doctype html><title>Keerpunt</title><h1>Keerpunt</h1>", content_type="text/html")


async def proxy_api(request: web.Request) -> web.StreamResponse:
    """Forward /api/ to the bots' session API (dev only; a reverse proxy does this in production)."""
    config = request.app[CONFIG_KEY]
    http = request.app[HTTP_KEY]
    headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_HEADERS}
    body = await request.read()
    async with http.request(
        request.method, config.portal.api_url.rstrip("/") + request.rel_url.raw_path_qs, headers=headers, data=body
    ) as upstream:
        payload = await upstream.read()
        out = web.Response(status=upstream.status, body=payload)
        for name, value in upstream.headers.items():
            if name.lower() not in HOP_HEADERS and name.lower() != "content-encoding":
                out.headers[name] = value
        return out


def create_app(config: Config) -> web.Application:
    app = web.Application(middlewares=[security_headers])
    app[CONFIG_KEY] = config

    async def http_client(app: web.Application) -> AsyncIterator[None]:
        app[HTTP_KEY] = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30), auto_decompress=False)
        yield
        await app[HTTP_KEY].close()

    app.cleanup_ctx.append(http_client)
    app.router.add_get("/", home)
    app.router.add_route("*", "/api/{tail:.*}", proxy_api)
    return app
