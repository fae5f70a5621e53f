"""Abuse control for new sessions without storing who asked (see ``bots.limits``)."""

from __future__ import annotations

import math

from bots.clock import Clock
from bots.limits import ClientKeyer, TokenBuckets
from bots.visitors.http import ApiError


class SessionRateLimiter:
    """Per client (``per_client_per_hour``) and global (``global_per_minute``) limits."""

    def __init__(self, per_client_per_hour: int, global_per_minute: int, clock: Clock) -> None:
        self.keyer = ClientKeyer()
        self.per_client = TokenBuckets(per_client_per_hour, 3600.0)
        self.global_ = TokenBuckets(global_per_minute, 60.0)
        self.clock = clock

    def check(self, address: str | None) -> None:
        """Take one token from both limits, or raise a 429 with ``Retry-After``."""
        now = self.clock.now()
        key = self.keyer.key(address)
        wait = max(self.per_client.wait(key, now), self.global_.wait(b"global", now))
        if wait > 0:
            raise ApiError(429, "rate_limited", {"Retry-After": str(max(1, math.ceil(wait)))})
        self.per_client.take(key, now)
        self.global_.take(b"global", now)
