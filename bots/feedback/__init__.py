"""The visitor's verdict (DESIGN.md "A counsellor's shift"): after a chat with a counsellor the
widget asks ``feedback.questions``; the answers come back with the one-time ticket the chat was
given (``bots.visitors.feedback``) and are counted per day, never with the case."""

from __future__ import annotations

from typing import ClassVar
from zoneinfo import ZoneInfo

from bots.concern import Concern, Parts
from bots.declarations import Declared
from bots.feedback.api import FeedbackApi, TicketSweep
from bots.triage import TriageDefinition
from bots.visitors.http import ApiEdge
from bots.visitors.ratelimit import SessionRateLimiter
from keerpunt.base.config import Config


class Feedback:
    declares: ClassVar[Declared] = Declared()

    def __init__(self, config: Config, definition: TriageDefinition) -> None:
        self.config = config

    async def build(self, parts: Parts) -> Concern:
        cfg = self.config
        rate = cfg.bots.rate_limit
        limiter = SessionRateLimiter(rate.per_client_per_hour, rate.global_per_minute, parts.clock)
        api = FeedbackApi(ApiEdge(cfg), parts.stores, cfg.feedback, ZoneInfo(cfg.hours.timezone), parts.clock, limiter)
        return Concern(
            "feedback", routes=api.routes, workers=(TicketSweep(parts.stores, parts.clock),), services=(api,)
        )
