"""Forward ``/api/`` to the bots' session API (dev only; the reverse proxy does it in production)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web
from aiohttp.typedefs import Handler

from keerpunt.base.config import Config

log = logging.getLogger(__name__)

HTTP_KEY = web.AppKey("http", aiohttp.ClientSession)
HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "te", "upgrade", "host", "content-length"}


async def http_client(app: web.Application) -> AsyncIterator[None]:
    app[HTTP_KEY] = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30), auto_decompress=False)
    yield
    await app[HTTP_KEY].close()


def make_proxy(config: Config) -> Handler:
    upstream_base = config.portal.api_url.rstrip("/")

    async def proxy_api(request: web.Request) -> web.StreamResponse:
        http = request.app[HTTP_KEY]
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_HEADERS}
        body = await request.read()
        try:
            async with http.request(
                request.method, upstream_base + request.rel_url.raw_path_qs, headers=headers, data=body
            ) as upstream:
                payload = await upstream.read()
                out = web.Response(status=upstream.status, body=payload)
                for name, value in upstream.headers.items():
                    if name.lower() not in HOP_HEADERS:
                        out.headers[name] = value
                return out
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("session API unreachable: %s", type(exc).__name__)
            return web.json_response({"error": "unavailable"}, status=502)

    return proxy_api
