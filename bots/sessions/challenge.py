"""Proof of work before a session start (ALTCHA, docs/abuse.md; SECURITY.md 39).

``GET /api/v1/sessions/challenge`` hands the widget a challenge made with the ``altcha``
library (PoW v2, PBKDF2-SHA-256): the bots pick a counter at random below the level's number,
derive its key and give the widget the key's first half; the widget tries counters until its
key starts with that prefix and sends the counter and key with ``POST /api/v1/sessions``. The
challenge is signed (HMAC) and so is the key (the fast check: one HMAC, no derivation), both
under secrets made at random when the process starts: nothing is stored, nothing goes to a
third party, no cookie is set. An answer is accepted once (the signatures of answered
challenges are held in memory until they expire) and only before its expiry.

The level is chosen when the challenge is asked for:

- ``hard`` for a network a counsellor dismissed in the last 24 hours (``bots.networks``), also
  checked again at the start: a challenge asked for before the dismissal does not do;
- ``raised`` while the ready sessions run low (under ``raise_below_ready`` of the pool's
  target) or when one network asked for more than ``raise_starts_per_minute`` challenges in a
  minute (a token bucket per keyed hash of its /24 or /48, in memory only);
- ``normal`` otherwise. A visitor is slowed, never refused.

How many challenges of each level were handed out is counted per day (``challenges``), from
memory to the statistics once a minute: no row per request.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import secrets
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

import altcha

from bots.clock import Clock
from bots.db import Stores
from bots.limits import ClientKeyer, TokenBuckets
from bots.networks import NetworkMemory
from keerpunt.base.config import Config

Level = Literal["normal", "raised", "hard"]
LEVELS: tuple[Level, ...] = ("normal", "raised", "hard")
ALGORITHM = "PBKDF2/SHA-256"
# How many answered challenges are remembered at most (each until its expiry); past it the
# oldest is dropped first.
MAX_USED = 200_000
# The longest answer accepted (base64 of the challenge and the solution: ~700 characters).
MAX_PAYLOAD = 2048
FLUSH_SECONDS = 60.0


class ChallengeRefused(Exception):
    """No valid answer: missing, malformed, wrong, expired, used, or too easy for the network."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class ChallengeSettings:
    enabled: bool
    cost: int
    numbers: dict[Level, int]
    expires_seconds: int
    raise_below_ready: float
    raise_starts_per_minute: int
    timezone: str

    @classmethod
    def of(cls, config: Config) -> ChallengeSettings:
        ch = config.bots.challenge
        return cls(
            enabled=ch.enabled,
            cost=ch.cost,
            numbers={"normal": ch.normal, "raised": ch.raised, "hard": ch.hard},
            expires_seconds=ch.expires_minutes * 60,
            raise_below_ready=ch.raise_below_ready,
            raise_starts_per_minute=ch.raise_starts_per_minute,
            timezone=config.hours.timezone,
        )


# (ready sessions now, the pool's target)
PoolLevel = Callable[[], tuple[int, int]]


class Challenges:
    def __init__(self, settings: ChallengeSettings, networks: NetworkMemory, pool: PoolLevel, clock: Clock) -> None:
        self.settings = settings
        self.networks = networks
        self.pool = pool
        self.clock = clock
        self._secret = secrets.token_bytes(32)
        self._key_secret = secrets.token_bytes(32)
        self._keyer = ClientKeyer()
        self._asks = TokenBuckets(settings.raise_starts_per_minute, 60.0)
        self._used: OrderedDict[str, float] = OrderedDict()
        # Handed out per (day, level) since the last flush to the statistics.
        self.handed_out: Counter[tuple[str, Level]] = Counter()

    @property
    def enabled(self) -> bool:
        return self.settings.enabled

    def level(self, address: str | None, *, ask: bool = False) -> Level:
        """The level ``address`` needs now; ``ask``: this is a request for a challenge (counted)."""
        if self.networks.dismissed(address):
            return "hard"
        raised = False
        ready, target = self.pool()
        if target > 0 and self.settings.raise_below_ready > 0 and ready < self.settings.raise_below_ready * target:
            raised = True
        if ask:
            key, now = self._keyer.key(address), self.clock.monotonic()
            if self._asks.wait(key, now) > 0:
                raised = True
            else:
                self._asks.take(key, now)
        return "raised" if raised else "normal"

    def issue(self, address: str | None) -> tuple[Level, dict[str, Any]]:
        """A new challenge for ``address``: its level and the JSON the widget solves."""
        level = self.level(address, ask=True)
        self.handed_out[(self._day(), level)] += 1
        return level, self.make(level)

    def make(self, level: Level) -> dict[str, Any]:
        """A signed challenge of ``level``: a counter drawn below its number, derived once here."""
        number = self.settings.numbers[level]
        challenge = altcha.create_challenge(
            ALGORITHM,
            self.settings.cost,
            counter=secrets.randbelow(number),
            expires_at=int(self.clock.now()) + self.settings.expires_seconds,
            data={"level": level},
            hmac_secret=self._secret,
            hmac_key_secret=self._key_secret,
        )
        return dict(challenge.to_dict())

    def check(self, answer: str | None, address: str | None) -> None:
        """Accept ``answer`` (base64 of the challenge and its solution) once, or raise."""
        if answer is None:
            raise ChallengeRefused("challenge_required")
        payload = _decode(answer)
        result = altcha.verify_solution(payload, self._secret, hmac_key_secret=self._key_secret)
        params = payload.challenge.parameters
        now = self.clock.now()
        if not result.verified or not isinstance(params.expires_at, int) or params.expires_at <= now:
            raise ChallengeRefused("challenge_invalid")
        level = params.data.get("level") if isinstance(params.data, dict) else None
        if level != "hard" and self.networks.dismissed(address):
            raise ChallengeRefused("challenge_invalid")  # asked for before the network was dismissed
        signature = str(payload.challenge.signature)
        self._forget_used(now)
        if signature in self._used:
            raise ChallengeRefused("challenge_invalid")
        self._used[signature] = float(params.expires_at)

    def _forget_used(self, now: float) -> None:
        used = self._used
        while used and (len(used) >= MAX_USED or next(iter(used.values())) <= now):
            used.popitem(last=False)

    def _day(self) -> str:
        zone = ZoneInfo(self.settings.timezone)
        return datetime.fromtimestamp(self.clock.now(), tz=UTC).astimezone(zone).date().isoformat()

    async def flush(self, stores: Stores) -> None:
        """Add what was handed out to the day's counts (``challenges``: total and per level)."""
        counted, self.handed_out = self.handed_out, Counter()
        for (day, level), n in counted.items():
            await stores.stats.add(day, "challenges", "total", n)
            await stores.stats.add(day, "challenges", f"level:{level}", n)

    async def flush_forever(self, stores: Stores) -> None:
        """The statistics worker's step: flush, then wait a minute."""
        await self.flush(stores)
        await asyncio.sleep(FLUSH_SECONDS)


def _decode(answer: str) -> altcha.Payload:
    """The answer as altcha's payload; anything malformed is refused like a wrong answer."""
    if len(answer) > MAX_PAYLOAD:
        raise ChallengeRefused("challenge_invalid")
    try:
        data = json.loads(base64.b64decode(answer, validate=True).decode("utf-8"))
        payload = altcha.Payload.from_dict(data)
        params = payload.challenge.parameters
        if not isinstance(params.nonce, str) or not isinstance(params.salt, str):
            raise ValueError("not a challenge")
        if type(payload.solution.counter) is not int or not isinstance(payload.solution.derived_key, str):
            raise ValueError("not a solution")
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError, binascii.Error):
        raise ChallengeRefused("challenge_invalid") from None
    return payload
