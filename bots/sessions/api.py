"""The session API (the HTTP edge): ``GET /api/v1/sessions/challenge``, ``POST /api/v1/sessions``
and ``POST /api/v1/sessions/end``.

Served by the visitor API's application (``bots.visitors.http``: origin check, CORS, safe
headers, strict JSON). Statuses, each with a JSON body ``{"error": "<code>"}`` and nothing else:

- 200 on ``GET …/challenge``: ``{"challenge": {ALTCHA v2 challenge} | null, "level": "normal" |
  "raised" | "hard" | null}`` (null: no proof of work is asked; ``bots.sessions.challenge``)
- 201 session created (DESIGN.md's contract, plus ``"open": true``); 204 session ended
- 200 ``{"open": false, "opens_at": "<ISO 8601 with offset>" | null}`` (with ``"later": true``
  when ``async.enabled``: a start with ``"later": true`` is accepted while closed, to leave a
  message to be answered later, and answers 201 with ``"later": true``; docs/write-later.md): the chat is closed
  (outside the opening hours of ``hours:``). Nothing is created then — no account, no room,
  no case, nothing stored, and the rate limit is not charged — so there is nothing to clean
  up; the widget shows when the chat opens (``opens_at`` is null when no opening is
  configured within a year). Bad input is still a 400 first.
- 400 ``bad_request``: not JSON, not an object, unknown or missing field, wrong type or value
- 401 ``unauthorized``: ``end`` without a valid visitor token
- 403 ``forbidden``: a POST whose ``Origin`` is not allowed (or missing, unless
  ``Sec-Fetch-Site: same-origin``)
- 403 ``challenge_required``: a start without the proof of work's answer (``"challenge"``);
  403 ``challenge_invalid``: an answer that is wrong, malformed, expired, used before, or of a
  lower level than the network now needs: ask for a new challenge and start again
- 413 ``too_large``: a body over 4 KiB; 415 ``unsupported_media_type``: not application/json
- 429 ``rate_limited`` with ``Retry-After``; 503 ``unavailable``: Synapse failed (nothing kept)
- 500 ``internal``: a bug, logged once with its traceback, never shown

No cookies are read or set; GET has no side effects; the access log is off and the client
address is only ever handed to the rate limiter.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime

from aiohttp import web

from bots.clock import Clock
from bots.limits import FirstContactLimits
from bots.networks import NetworkMemory
from bots.sessions.challenge import ChallengeRefused, Challenges
from bots.sessions.domain import SessionManager, SessionUnavailable, VisitorNames
from bots.sessions.settings import SessionSettings
from bots.sessions.validation import StartRequest, parse_end, parse_start
from bots.texts import text
from bots.visitors.accounts import NotAVisitor
from bots.visitors.http import ApiEdge, ApiError, bearer_token, read_json
from bots.visitors.invites import InviteKeyer
from bots.visitors.ratelimit import SessionRateLimiter
from keerpunt.base.hours import OpeningHours
from keerpunt.site.campaigns import Campaign, today


@dataclass(frozen=True)
class StartLimits:
    """Abuse control: starts and ends per client and overall, and restarts per client."""

    start: SessionRateLimiter
    # Ending costs a Synapse call per token tried: it has limits of its own.
    end: SessionRateLimiter
    first_contact: FirstContactLimits
    # The proof of work and the networks it reads (each case's network, dismissed networks).
    challenges: Challenges
    networks: NetworkMemory


class Entries:
    """What a start may name: a campaign the platform knows (once it has started) and an
    outreach invite, of which only the keyed hash goes on."""

    def __init__(self, campaigns: Mapping[str, Campaign], invites: InviteKeyer | None, timezone: str) -> None:
        self.campaigns = campaigns
        self.invites = invites
        self.timezone = timezone

    def _day(self, now: datetime) -> date:
        return today(self.timezone, now)

    def checked(self, start: StartRequest, now: datetime) -> tuple[StartRequest, str | None]:
        """The start with only a known campaign kept, and the invite's keyed hash (or None)."""
        campaign = self.campaigns.get(start.campaign) if start.campaign is not None else None
        if start.campaign is not None and (campaign is None or not campaign.published(self._day(now))):
            start = replace(start, campaign=None)  # an unknown (or not yet started) label is never kept
        # Only the keyed hash of an outreach code goes on; a used, expired, revoked, unknown or
        # malformed code starts a plain session, answered exactly alike (no oracle).
        invite = None
        if start.entry == "outreach" and start.invite is not None and self.invites is not None:
            invite = self.invites.hash(start.invite)
        return replace(start, invite=None, challenge=None), invite


class SessionsApi:
    def __init__(
        self,
        edge: ApiEdge,
        manager: SessionManager,
        settings: SessionSettings,
        limits: StartLimits,
        hours: OpeningHours,
        clock: Clock,
        entries: Entries,
        ended: Callable[[], None] = lambda: None,
    ) -> None:
        self.edge = edge
        self.manager = manager
        self.settings = settings
        self.limits = limits
        self.hours = hours
        self.clock = clock
        self.entries = entries
        self.ended = ended

    @property
    def routes(self) -> tuple[web.RouteDef, ...]:
        return (
            web.get("/api/v1/sessions/challenge", self.challenge),
            *self.edge.post("/api/v1/sessions", self.start_session),
            *self.edge.post("/api/v1/sessions/end", self.end_session),
        )

    async def challenge(self, request: web.Request) -> web.Response:
        """A proof of work for the next start (nothing stored: the challenge is signed)."""
        challenges = self.limits.challenges
        if not challenges.enabled:
            return web.json_response({"challenge": None, "level": None})
        level, challenge = challenges.issue(self.edge.address(request))
        return web.json_response({"challenge": challenge, "level": level})

    async def start_session(self, request: web.Request) -> web.Response:
        start = parse_start(await read_json(request, allow_empty=False))
        now = datetime.fromtimestamp(self.clock.now(), tz=UTC)
        closed = not self.hours.is_open(now)
        if closed and not (start.later and self.settings.later):
            opening = self.hours.next_opening(now)
            opens_at = opening.isoformat(timespec="seconds") if opening is not None else None
            answer: dict[str, object] = {"open": False, "opens_at": opens_at}
            if self.settings.later:
                answer["later"] = True  # a message can be left (docs/write-later.md)
            return web.json_response(answer, status=200)
        # A live start never counts as one to leave a message, even if the widget said so.
        start = replace(start, later=closed)
        address = self.edge.address(request)
        if self.limits.challenges.enabled:
            try:
                self.limits.challenges.check(start.challenge, address)
            except ChallengeRefused as refused:
                raise ApiError(403, refused.code) from None
        first_contact = self.limits.first_contact
        client = first_contact.keyer.key(address)
        wait = first_contact.restart_wait(client)
        if wait > 0:
            raise ApiError(429, "rate_limited", {"Retry-After": str(max(1, math.ceil(wait)))})
        self.limits.start.check(address)
        start, invite = self.entries.checked(start, now)
        names = VisitorNames(text(start.language, "visitor.display_name"), text(start.language, "visitor.device_name"))
        try:
            new = await self.manager.start(start, names, invite)
        except SessionUnavailable:
            raise ApiError(503, "unavailable") from None
        first_contact.started(new.case_id, client)
        self.limits.networks.started(new.case_id, address)
        body = {
            "homeserver": self.settings.public_url,
            "user_id": new.user_id,
            "access_token": new.access_token,
            "device_id": new.device_id,
            "room_id": new.room_id,
            "bot": self.settings.bot,
            "case": new.case_number,
            "open": True,
        }
        if closed:
            body["later"] = True  # the chat is closed: a message to be answered later
        return web.json_response(body, status=201)

    async def end_session(self, request: web.Request) -> web.Response:
        address = self.edge.address(request)
        self.limits.end.check(address)
        token = bearer_token(request)
        if token is None:
            raise ApiError(401, "unauthorized")
        reason = parse_end(await read_json(request, allow_empty=True))
        try:
            await self.manager.end(token, reason)
        except NotAVisitor:
            raise ApiError(401, "unauthorized") from None
        first_contact = self.limits.first_contact
        first_contact.ended(first_contact.keyer.key(address))
        self.ended()  # the queue tells the card and the counsellor
        return web.Response(status=204)
