"""Abuse control for new sessions without storing who asked.

A client is known only by a keyed hash (HMAC-SHA256 with a random key made at process
start) of its address truncated to /24 (IPv4) or /48 (IPv6). The hashes live in memory, in
token buckets that are dropped as soon as they are full again; nothing is logged. A restart
forgets everything, and a hash cannot be turned back into an address without the key.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import math
import secrets
from dataclasses import dataclass

from bots.clock import Clock
from bots.sessions.validation import ApiError

PRUNE_EVERY = 256


def client_network(address: str | None) -> bytes:
    """The truncated network of ``address`` as bytes (the address itself is not kept)."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return b"unknown"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    prefix = 24 if ip.version == 4 else 48
    network = ipaddress.ip_network(f"{ip}/{prefix}", strict=False)
    return network.network_address.packed + bytes([prefix])


class ClientKeyer:
    def __init__(self) -> None:
        self._key = secrets.token_bytes(32)

    def key(self, address: str | None) -> bytes:
        return hmac.new(self._key, client_network(address), hashlib.sha256).digest()[:16]


@dataclass
class _Bucket:
    tokens: float
    updated: float


class TokenBuckets:
    """Token buckets with ``capacity`` tokens, refilled at ``capacity / period`` per second."""

    def __init__(self, capacity: int, period: float) -> None:
        self.capacity = float(max(1, capacity))
        self.rate = self.capacity / period
        self._buckets: dict[bytes, _Bucket] = {}
        self._calls = 0

    def _level(self, key: bytes, now: float) -> float:
        bucket = self._buckets.get(key)
        if bucket is None:
            return self.capacity
        return min(self.capacity, bucket.tokens + (now - bucket.updated) * self.rate)

    def wait(self, key: bytes, now: float) -> float:
        """Seconds until one token is available (0 when one is available now)."""
        level = self._level(key, now)
        return 0.0 if level >= 1 else (1 - level) / self.rate

    def take(self, key: bytes, now: float) -> None:
        self._buckets[key] = _Bucket(self._level(key, now) - 1, now)
        self._calls += 1
        if self._calls % PRUNE_EVERY == 0:
            self.prune(now)

    def prune(self, now: float) -> None:
        full = [k for k in self._buckets if self._level(k, now) >= self.capacity]
        for key in full:
            del self._buckets[key]

    def __len__(self) -> int:
        return len(self._buckets)


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
