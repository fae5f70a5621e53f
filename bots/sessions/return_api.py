"""The return code's HTTP edge (docs/return-code.md), routes added to the session API's app:

- ``POST /api/v1/sessions/code`` (visitor's bearer token) ``{"lookup", "verifier", "login"}``
  → 204; 401 ``unauthorized`` without an open case of the token's visitor.
- ``POST /api/v1/sessions/return`` ``{"lookup", "verifier"}`` → 200 ``{"homeserver",
  "user_id", "room_id", "bot", "case", "days"}``; 403 ``unknown_code`` for an unknown, expired,
  used-up or wrong code alike (no oracle).

Both answer 404 ``not_found`` while ``return_code.enabled`` is false. Each value is base64url
without padding, 43 characters (32 bytes), derived in the widget; the API never sees the code
or the second word. Both are rate-limited per client and globally; ``return`` also has the
wrong-word count behind it.
"""

from __future__ import annotations

import base64
import re
from typing import Any

from aiohttp import web

from bots.sessions.api import SessionsApi, client_address
from bots.sessions.domain import NotAVisitor
from bots.sessions.ratelimit import SessionRateLimiter
from bots.sessions.returning import ReturnCodes
from bots.sessions.validation import ApiError, bad_request

B64_32 = re.compile(r"^[A-Za-z0-9_-]{43}$")


def _bytes(data: dict[str, Any], key: str) -> bytes:
    value = data.get(key)
    if not isinstance(value, str) or not B64_32.fullmatch(value):
        raise bad_request()
    return base64.urlsafe_b64decode(value + "=")


def _exact(data: dict[str, Any], keys: set[str]) -> None:
    if set(data) != keys:
        raise bad_request()


class ReturnApi:
    def __init__(self, sessions: SessionsApi, codes: ReturnCodes | None, limiter: SessionRateLimiter) -> None:
        self.sessions = sessions
        self.config = sessions.config
        self.codes = codes
        self.limiter = limiter

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post("/api/v1/sessions/code", self.register)
        app.router.add_post("/api/v1/sessions/return", self.come_back)
        app.router.add_route("OPTIONS", "/api/v1/sessions/code", self.sessions.preflight)
        app.router.add_route("OPTIONS", "/api/v1/sessions/return", self.sessions.preflight)

    def _enabled(self) -> ReturnCodes:
        if self.codes is None:
            raise ApiError(404, "not_found")
        return self.codes

    def _limit(self, request: web.Request) -> None:
        api = self.config.bots.api
        self.limiter.check(client_address(request, api.trust_forwarded_for, api.trusted_proxies))

    async def register(self, request: web.Request) -> web.Response:
        codes = self._enabled()
        self._limit(request)
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(401, "unauthorized")
        data = await self.sessions._json_body(request, allow_empty=False)
        _exact(data, {"lookup", "verifier", "login"})
        lookup, verifier = _bytes(data, "lookup"), _bytes(data, "verifier")
        _bytes(data, "login")
        try:
            await codes.register(token.strip(), lookup, verifier, str(data["login"]))
        except NotAVisitor:
            raise ApiError(401, "unauthorized") from None
        return web.Response(status=204)

    async def come_back(self, request: web.Request) -> web.Response:
        codes = self._enabled()
        self._limit(request)
        data = await self.sessions._json_body(request, allow_empty=False)
        _exact(data, {"lookup", "verifier"})
        returned = await codes.come_back(_bytes(data, "lookup"), _bytes(data, "verifier"))
        if returned is None:
            raise ApiError(403, "unknown_code")
        self.sessions.ended()  # wakes the queue: the card and the counsellor
        body = {
            "homeserver": self.config.homeserver.public_url,
            "user_id": returned.user_id,
            "room_id": returned.room_id,
            "bot": self.config.bot_user_id,
            "case": returned.number,
            "days": returned.days,
        }
        return web.json_response(body, status=200)
