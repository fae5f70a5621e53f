"""The return code's HTTP edge (docs/return-code.md), routes served beside the session API:

- ``POST /api/v1/sessions/code`` (visitor's bearer token) ``{"lookup", "verifier", "login"}``
  → 200 ``{"key"}`` (the bots' part of the code's secret-storage key); 401 ``unauthorized``
  without an open case of the token's visitor, and alike when another case's code has the same
  lookup value (that code is never touched).
- ``POST /api/v1/sessions/return`` ``{"lookup", "verifier"}`` → 200 ``{"homeserver",
  "user_id", "room_id", "bot", "case", "days", "key"}`` (``key`` is null for a code made before
  the bots took part); 403 ``unknown_code`` for an unknown, expired, used-up or wrong code
  alike (no oracle).

Both answer 404 ``not_found`` while ``return_code.enabled`` is false. Each value is base64url
without padding, 43 characters (32 bytes); the API never sees the code or the second word. Each
route has its own limits per client and overall, so that a flood of returns (which need no
token) blocks neither a new code nor a session start; ``return`` also has the wrong-word count
behind it.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bots.returning.codes import CodeRefused, ReturnCodes, ReturnSettings
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


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@dataclass(frozen=True)
class ReturnLimits:
    """One limiter per route (per client and overall): making a code and returning never
    share a budget."""

    code: SessionRateLimiter
    back: SessionRateLimiter


class ReturnApi:
    def __init__(
        self,
        edge: ApiEdge,
        codes: ReturnCodes | None,
        limits: ReturnLimits,
        settings: ReturnSettings,
        changed: Callable[[], None] = lambda: None,
    ) -> None:
        self.edge = edge
        self.codes = codes
        self.limits = limits
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

    async def register(self, request: web.Request) -> web.Response:
        codes = self._enabled()
        self.limits.code.check(self.edge.address(request))
        token = bearer_token(request)
        if token is None:
            raise ApiError(401, "unauthorized")
        data = await read_json(request, allow_empty=False)
        _exact(data, {"lookup", "verifier", "login"})
        lookup, verifier = _bytes(data, "lookup"), _bytes(data, "verifier")
        _bytes(data, "login")
        try:
            key = await codes.register(token, lookup, verifier, str(data["login"]))
        except (NotAVisitor, CodeRefused):
            # A lookup value another case's code has is refused like any other refusal here.
            raise ApiError(401, "unauthorized") from None
        return web.json_response({"key": _b64(key)}, status=200)

    async def come_back(self, request: web.Request) -> web.Response:
        codes = self._enabled()
        self.limits.back.check(self.edge.address(request))
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
            "key": _b64(returned.key) if returned.key is not None else None,
        }
        return web.json_response(body, status=200)
