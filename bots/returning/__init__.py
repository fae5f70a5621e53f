"""The anonymous return code (docs/return-code.md; off by default): a visitor who ends the
chat with a code leaves the case dormant instead of closed, and comes back to it later.

Its routes (``/api/v1/sessions/code`` and ``/return``) are always served and answer 404 while
``return_code.enabled`` is false; when it is on, the concern's end hook keeps a case that has a
code (``ReturnCodes.end_with_code``). Its worker ends dormant cases at their expiry whether
codes are on or not (a case left dormant before they were switched off ends on time too).
"""

from __future__ import annotations

from typing import ClassVar

from bots.concern import Concern, Parts, Periodic, Worker
from bots.declarations import Declared
from bots.returning.api import ReturnApi, ReturnLimits
from bots.returning.codes import CodeKeyer, ReturnCodes, ReturnSettings
from bots.returning.dormant import DormantCases
from bots.triage import TriageDefinition
from bots.visitors.accounts import VisitorAccounts
from bots.visitors.http import ApiEdge
from bots.visitors.invites import secret_key
from bots.visitors.ratelimit import SessionRateLimiter
from keerpunt.base.config import Config

# Codes and returns each at most this many per client and hour, whatever ``bots.rate_limit``
# allows (each route has its own budget, per client and overall).
RETURNS_PER_CLIENT_PER_HOUR = 10


class Returning:
    declares: ClassVar[Declared] = Declared()

    def __init__(self, config: Config, definition: TriageDefinition) -> None:
        self.config = config
        self.settings = ReturnSettings.of(config)

    async def build(self, parts: Parts) -> Concern:
        cfg = self.config
        accounts = VisitorAccounts(parts.admin, parts.stores.cases, parts.clock)
        dormant = DormantCases(
            accounts, parts.stores, parts.clock, self.settings.staff_language, changed=parts.wakeups.changed
        )
        codes = None
        if cfg.return_code.enabled:
            codes = ReturnCodes(
                dormant,
                CodeKeyer(secret_key(cfg.path(cfg.return_code.key_path))),
                self.settings,
                changed=parts.wakeups.changed,
                expect_device=parts.trust.expect_new_device,
                hours=parts.hours,
            )
        rate = cfg.bots.rate_limit
        per_client = min(RETURNS_PER_CLIENT_PER_HOUR, rate.per_client_per_hour)
        limits = ReturnLimits(
            code=SessionRateLimiter(per_client, rate.global_per_minute, parts.clock),
            back=SessionRateLimiter(per_client, rate.global_per_minute, parts.clock),
        )
        api = ReturnApi(ApiEdge(cfg), codes, limits, self.settings, changed=parts.wakeups.changed)
        workers: tuple[Worker, ...] = (Periodic("dormant cases", dormant.step),)
        return Concern(
            "return codes",
            workers=workers,
            routes=api.routes,
            ending=(codes.end_with_code,) if codes is not None else (),
            services=(api, dormant, *((codes,) if codes is not None else ())),
        )
