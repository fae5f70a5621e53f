"""The session API (the HTTP edge): ``POST /api/v1/sessions`` and ``POST /api/v1/sessions/end``.

Statuses, each with a JSON body ``{"error": "<code>"}`` and nothing else:

- 201 session created (DESIGN.md's contract, plus ``"open": true``); 204 session ended
- 200 ``{"open": false, "opens_at": "<ISO 8601 with offset>" | null}``: the chat is closed
  (outside the opening hours of ``hours:``). Nothing is created then — no account, no room,
  no case, nothing stored, and the rate limit is not charged — so there is nothing to clean
  up; the widget shows when the chat opens (``opens_at`` is null when no opening is
  configured within a year). Bad input is still a 400 first.
- 400 ``bad_request``: not JSON, not an object, unknown or missing field, wrong type or value
- 401 ``unauthorized``: ``end`` without a valid visitor token
- 403 ``forbidden``: a POST whose ``Origin`` is not allowed (or missing, unless
  ``Sec-Fetch-Site: same-origin``)
- 413 ``too_large``: a body over 4 KiB; 415 ``unsupported_media_type``: not application/json
- 429 ``rate_limited`` with ``Retry-After``; 503 ``unavailable``: Synapse failed (nothing kept)
- 500 ``internal``: a bug, logged once with its traceback, never shown

No cookies are read or set; GET has no side effects; the access log is off and the client
address is only ever handed to the rate limiter.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import math
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime

from aiohttp import web

from bots.clock import Clock
from bots.limits import FirstContactLimits
from bots.sessions.domain import NotAVisitor, SessionManager, SessionUnavailable, VisitorNames
from bots.sessions.invites import InviteKeyer
from bots.sessions.ratelimit import SessionRateLimiter
from bots.sessions.validation import MAX_BODY_BYTES, ApiError, parse_end, parse_json_object, parse_start
from bots.texts import text
from keerpunt.base.config import Config
from keerpunt.base.hours import OpeningHours
from keerpunt.site.campaigns import Campaign, today

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

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


class SessionsApi:
    def __init__(
        self,
        config: Config,
        manager: SessionManager,
        limiter: SessionRateLimiter,
        *,
        hours: OpeningHours,
        clock: Clock,
        ended: Callable[[], None] = lambda: None,
        end_limiter: SessionRateLimiter | None = None,
        campaigns: Mapping[str, Campaign] | None = None,
        first_contact: FirstContactLimits | None = None,
        invites: InviteKeyer | None = None,
    ) -> None:
        self.config = config
        self.manager = manager
        self.limiter = limiter
        self.hours = hours
        self.clock = clock
        self.ended = ended
        # Ending costs a Synapse call per token tried: it has limits of its own.
        self.end_limiter = end_limiter or SessionRateLimiter(
            config.bots.rate_limit.per_client_per_hour, config.bots.rate_limit.global_per_minute, clock
        )
        self.campaigns = campaigns or {}
        self.invites = invites
        self.first_contact = first_contact or FirstContactLimits(
            clock,
            urgent_per_hour=config.bots.rate_limit.urgent_per_client_per_hour,
            restarts_per_hour=config.bots.rate_limit.restarts_per_client_per_hour,
        )
        self.allowed_origins = frozenset(config.bots.api.allowed_origins)

    def make_app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=[self.headers_middleware, error_middleware])
        app.router.add_get("/api/v1/health", self.health)
        app.router.add_post("/api/v1/sessions", self.start_session)
        app.router.add_post("/api/v1/sessions/end", self.end_session)
        app.router.add_route("OPTIONS", "/api/v1/sessions", self.preflight)
        app.router.add_route("OPTIONS", "/api/v1/sessions/end", self.preflight)
        return app

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

    async def health(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def _json_body(self, request: web.Request, *, allow_empty: bool) -> dict[str, object]:
        if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
            raise ApiError(413, "too_large")
        raw = await request.read()
        if allow_empty and not raw.strip():
            return {}
        if request.content_type != "application/json":
            raise ApiError(415, "unsupported_media_type")
        return parse_json_object(raw)

    def _day(self, now: datetime) -> date:
        return today(self.config.hours.timezone, now)

    async def start_session(self, request: web.Request) -> web.Response:
        start = parse_start(await self._json_body(request, allow_empty=False))
        now = datetime.fromtimestamp(self.clock.now(), tz=UTC)
        if not self.hours.is_open(now):
            opening = self.hours.next_opening(now)
            opens_at = opening.isoformat(timespec="seconds") if opening is not None else None
            return web.json_response({"open": False, "opens_at": opens_at}, status=200)
        address = client_address(
            request, self.config.bots.api.trust_forwarded_for, self.config.bots.api.trusted_proxies
        )
        client = self.first_contact.keyer.key(address)
        wait = self.first_contact.restart_wait(client)
        if wait > 0:
            raise ApiError(429, "rate_limited", {"Retry-After": str(max(1, math.ceil(wait)))})
        self.limiter.check(address)
        campaign = self.campaigns.get(start.campaign) if start.campaign is not None else None
        if start.campaign is not None and (campaign is None or not campaign.published(self._day(now))):
            start = replace(start, campaign=None)  # an unknown (or not yet started) label is never kept
        names = VisitorNames(text(start.language, "visitor.display_name"), text(start.language, "visitor.device_name"))
        # Only the keyed hash of an outreach code goes on; a used, expired, revoked, unknown or
        # malformed code starts a plain session, answered exactly alike (no oracle).
        invite = None
        if start.entry == "outreach" and start.invite is not None and self.invites is not None:
            invite = self.invites.hash(start.invite)
        start = replace(start, invite=None)
        try:
            new = await self.manager.start(start, names, invite)
        except SessionUnavailable:
            raise ApiError(503, "unavailable") from None
        self.first_contact.started(new.case_id, client)
        body = {
            "homeserver": self.config.homeserver.public_url,
            "user_id": new.user_id,
            "access_token": new.access_token,
            "device_id": new.device_id,
            "room_id": new.room_id,
            "bot": self.config.bot_user_id,
            "case": new.case_number,
            "open": True,
        }
        return web.json_response(body, status=201)

    async def end_session(self, request: web.Request) -> web.Response:
        auth = request.headers.get("Authorization", "")
        scheme, _, token = auth.partition(" ")
        address = client_address(
            request, self.config.bots.api.trust_forwarded_for, self.config.bots.api.trusted_proxies
        )
        self.end_limiter.check(address)
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(401, "unauthorized")
        reason = parse_end(await self._json_body(request, allow_empty=True))
        try:
            await self.manager.end(token.strip(), reason)
        except NotAVisitor:
            raise ApiError(401, "unauthorized") from None
        self.first_contact.ended(self.first_contact.keyer.key(address))
        self.ended()  # the queue tells the card and the counsellor
        return web.Response(status=204)
