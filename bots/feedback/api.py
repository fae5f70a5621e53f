"""``POST /api/v1/feedback``: the visitor's answers, with the ticket their chat was given.

Body ``{"ticket": "<ticket>", "answers": {"<question id>": "<answer id>", …}}``: only ids of
``feedback.questions``, each question at most once, any of them left out (``{}``: skipped
altogether, counted as such). 204 when counted; 404 ``not_found`` for a ticket that is unknown,
used or expired; 400 for anything else that is wrong; 429 past the per-client limit. The ticket
is used up and the answers are counted per day in one transaction: no row names the case.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from bots.clock import Clock, millis
from bots.concern import Reconciler
from bots.db import Stores
from bots.visitors.feedback import ticket_hash
from bots.visitors.http import ApiEdge, ApiError, bad_request, read_json
from bots.visitors.ratelimit import SessionRateLimiter
from keerpunt.base.config.model import FeedbackConfig

log = logging.getLogger(__name__)

MAX_TICKET = 64


def parse_feedback(data: Mapping[str, Any], feedback: FeedbackConfig) -> tuple[str, dict[str, str]]:
    """The ticket and the answers, each an id of the config's questions; else a 400."""
    if set(data) != {"ticket", "answers"}:
        raise bad_request()
    ticket, answers = data["ticket"], data["answers"]
    if not isinstance(ticket, str) or not 0 < len(ticket) <= MAX_TICKET or not isinstance(answers, dict):
        raise bad_request()
    known = {q.id: {a.id for a in q.answers} for q in feedback.questions}
    for question, answer in answers.items():
        if question not in known or not isinstance(answer, str) or answer not in known[question]:
            raise bad_request()
    return ticket, dict(answers)


class FeedbackApi:
    def __init__(
        self,
        edge: ApiEdge,
        stores: Stores,
        feedback: FeedbackConfig,
        zone: ZoneInfo,
        clock: Clock,
        limiter: SessionRateLimiter,
    ) -> None:
        self.edge = edge
        self.stores = stores
        self.feedback = feedback
        self.zone = zone
        self.clock = clock
        self.limiter = limiter

    @property
    def routes(self) -> tuple[web.RouteDef, ...]:
        return self.edge.post("/api/v1/feedback", self.answer)

    async def answer(self, request: web.Request) -> web.Response:
        self.limiter.check(self.edge.address(request))
        ticket, answers = parse_feedback(await read_json(request, allow_empty=False), self.feedback)
        await self.count(ticket, answers)
        return web.Response(status=204)

    async def count(self, ticket: str, answers: Mapping[str, str]) -> None:
        """Use the ticket up and count the answers (the API's checks are done); 404 when the
        ticket cannot be used."""
        now = millis(self.clock)
        day = datetime.fromtimestamp(now / 1000, tz=UTC).astimezone(self.zone).date().isoformat()
        async with self.stores.transaction():
            if not await self.stores.feedback.use(ticket_hash(ticket), now):
                raise ApiError(404, "not_found")
            await self.stores.stats.add(day, "feedback", "total")
            for question, answer in sorted(answers.items()):
                await self.stores.stats.add(day, "feedback", f"{question}={answer}")
        log.info("Counted a visitor's verdict (%d answers)", len(answers))


class TicketSweep(Reconciler):
    """Unused tickets go once they expire."""

    name = "feedback tickets"
    title = "The verdict tickets' expiry"
    idle = 600.0

    def __init__(self, stores: Stores, clock: Clock) -> None:
        super().__init__()
        self.stores = stores
        self.clock = clock

    async def step(self) -> bool:
        swept = await self.stores.feedback.sweep(millis(self.clock))
        if swept:
            log.info("Deleted %d expired verdict ticket(s)", swept)
        return False
