"""The return code's HTTP edge (docs/return-code.md), routes served beside the session API:

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
from collections.abc import Callable
from typing import Any

from aiohttp import web

from bots.returning.codes import ReturnCodes, ReturnSettings
from bots.visitors.accounts import NotAVisitor
from bots.visitors.http import ApiEdge, ApiError, bad_request, bearer_token, read_json
from bots.visitors.ratelimit import SessionRateLimiter

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
    def __init__(
        self,
        edge: ApiEdge,
        codes: ReturnCodes | None,
        limiter: SessionRateLimiter,
        settings: ReturnSettings,
        changed: Callable[[], None] = lambda: None,
    ) -> None:
        self.edge = edge
        self.codes = codes
        # Shared by both routes: capped at 10 per client and hour whatever the config says.
        self.limiter = limiter
        self.settings = settings
        self.changed = changed

    @property
    def routes(self) -> tuple[web.RouteDef, ...]:
        return (
            *self.edge.post("/api/v1/sessions/code", self.register),
            *self.edge.post("/api/v1/sessions/return", self.come_back),
        )

    def _enabled(self) -> ReturnCodes:
        if self.codes is None:
            raise ApiError(404, "not_found")
        return self.codes

    def _limit(self, request: web.Request) -> None:
        self.limiter.check(self.edge.address(request))

    async def register(self, request: web.Request) -> web.Response:
        codes = self._enabled()
        self._limit(request)
        token = bearer_token(request)
        if token is None:
            raise ApiError(401, "unauthorized")
        data = await read_json(request, allow_empty=False)
        _exact(data, {"lookup", "verifier", "login"})
        lookup, verifier = _bytes(data, "lookup"), _bytes(data, "verifier")
        _bytes(data, "login")
        try:
            await codes.register(token, lookup, verifier, str(data["login"]))
        except NotAVisitor:
            raise ApiError(401, "unauthorized") from None
        return web.Response(status=204)

    async def come_back(self, request: web.Request) -> web.Response:
        codes = self._enabled()
        self._limit(request)
        data = await read_json(request, allow_empty=False)
        _exact(data, {"lookup", "verifier"})
        returned = await codes.come_back(_bytes(data, "lookup"), _bytes(data, "verifier"))
        if returned is None:
            raise ApiError(403, "unknown_code")
        self.changed()  # wakes the queue: the card and the counsellor
        body = {
            "homeserver": self.settings.public_url,
            "user_id": returned.user_id,
            "room_id": returned.room_id,
            "bot": self.settings.bot,
            "case": returned.number,
            "days": returned.days,
        }
        return web.json_response(body, status=200)
