"""The visitor API's HTTP edge, shared by every concern that serves routes under ``/api/v1``.

One aiohttp application (``ApiEdge.make_app``) with the rules every route follows: a POST
whose ``Origin`` is not allowed (or missing, unless ``Sec-Fetch-Site: same-origin``) is a 403,
allowed origins get CORS, every answer carries the safe headers and no cookie, and every error
is a JSON body ``{"error": "<code>"}`` and nothing else (a bug: 500 ``internal``, logged once
with its traceback, never shown). Concerns add their routes (``Concern.routes``); the session
API's own contract is in ``bots.sessions.api``, the return code's in ``bots.returning.api``.

Bodies are parsed strictly: UTF-8 JSON objects of at most 4 KiB, no duplicate keys, no NaN.
The client address is only ever handed to a rate limiter.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiohttp import web

from keerpunt.base.config import Config

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

MAX_BODY_BYTES = 4096
GENERIC_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
    503: "unavailable",
}
COMMON_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
}


class ApiError(Exception):
    """A user-facing HTTP error: a status, a generic code, optional headers."""

    def __init__(self, status: int, code: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{status} {code}")
        self.status = status
        self.code = code
        self.headers = headers or {}


def bad_request() -> ApiError:
    return ApiError(400, "bad_request")


def json_error(status: int, code: str | None = None, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"error": code or GENERIC_CODES.get(status, "error")}, status=status, headers=headers)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The one place where errors become HTTP answers."""
    try:
        return await handler(request)
    except ApiError as exc:
        return json_error(exc.status, exc.code, exc.headers)
    except web.HTTPException as exc:  # routing (404/405) and aiohttp's own body limit (413)
        return json_error(exc.status)
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("Session API %s %s failed", request.method, request.path)
        return json_error(500, "internal")


def client_address(request: web.Request, trust_forwarded_for: bool, proxies: Sequence[str] = ()) -> str | None:
    """The client's address for the rate limiter only: the TCP peer, or the proxy's last hop.

    X-Forwarded-For counts only when ``trust_forwarded_for`` is on and the TCP peer is one of
    ``proxies`` (``bots.api.trusted_proxies``): anyone else reaching the API directly could
    otherwise pick their own address. Keerpunt's Caddy writes one, already truncated, hop.
    """
    peer = request.transport.get_extra_info("peername") if request.transport else None
    address = str(peer[0]) if peer else None
    if trust_forwarded_for and address is not None and from_proxy(address, proxies):
        forwarded = request.headers.getall("X-Forwarded-For", [])
        hops = [hop.strip() for value in forwarded for hop in value.split(",") if hop.strip()]
        if hops:
            return hops[-1]
    return address


def from_proxy(address: str, proxies: Sequence[str]) -> bool:
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(proxy, strict=False) for proxy in proxies)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError("duplicate key")
        out[key] = value
    return out


def _no_constants(_: str) -> Any:
    raise ValueError("NaN and Infinity are not JSON")


def parse_json_object(raw: bytes) -> dict[str, Any]:
    """Decode a UTF-8 JSON object (no duplicate keys, no NaN); anything else is a 400."""
    if len(raw) > MAX_BODY_BYTES:
        raise ApiError(413, "too_large")
    try:
        data = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates, parse_constant=_no_constants)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise bad_request() from None
    if not isinstance(data, dict):
        raise bad_request()
    return data


async def read_json(request: web.Request, *, allow_empty: bool) -> dict[str, Any]:
    """The request's JSON object body (``{}`` for an empty one, when that is allowed)."""
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise ApiError(413, "too_large")
    raw = await request.read()
    if allow_empty and not raw.strip():
        return {}
    if request.content_type != "application/json":
        raise ApiError(415, "unsupported_media_type")
    return parse_json_object(raw)


def bearer_token(request: web.Request) -> str | None:
    """The visitor's access token from ``Authorization: Bearer …``; None without one."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


class ApiEdge:
    """The application every visitor route is served by, and what those routes share."""

    def __init__(self, config: Config) -> None:
        api = config.bots.api
        self.allowed_origins = frozenset(api.allowed_origins)
        self.trust_forwarded_for = api.trust_forwarded_for
        self.trusted_proxies = tuple(api.trusted_proxies)

    def make_app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=[self.headers_middleware, error_middleware])
        app.router.add_get("/api/v1/health", self.health)
        return app

    def address(self, request: web.Request) -> str | None:
        """The client's address, for a rate limiter only."""
        return client_address(request, self.trust_forwarded_for, self.trusted_proxies)

    @web.middleware
    async def headers_middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Origin check for POST, CORS for allowed origins, safe headers on every answer."""
        origin = request.headers.get("Origin")
        if request.method == "POST" and not self._origin_ok(request, origin):
            response: web.StreamResponse = json_error(403)
        else:
            response = await handler(request)
        response.headers.update(COMMON_HEADERS)
        if origin is not None and origin in self.allowed_origins:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Vary"] = "Origin"
        response.headers.popall("Set-Cookie", None)
        return response

    def _origin_ok(self, request: web.Request, origin: str | None) -> bool:
        if origin is None:
            return request.headers.get("Sec-Fetch-Site") == "same-origin"
        return origin in self.allowed_origins

    async def preflight(self, request: web.Request) -> web.Response:
        """The CORS preflight of a POST route (each route adds its own ``OPTIONS``)."""
        if request.headers.get("Origin") not in self.allowed_origins:
            return json_error(403)
        return web.Response(
            status=204,
            headers={
                "Access-Control-Allow-Methods": "POST",
                "Access-Control-Allow-Headers": "Authorization, Content-Type",
                "Access-Control-Max-Age": "600",
            },
        )

    def post(self, path: str, handler: Handler) -> tuple[web.RouteDef, web.RouteDef]:
        """A POST route and its preflight."""
        return web.post(path, handler), web.route("OPTIONS", path, self.preflight)

    async def health(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})
