"""What one client may do, known only by a keyed hash of its network, in memory only.

A client is known only by a keyed hash (HMAC-SHA256 with a random key made at process
start) of its address truncated to /24 (IPv4) or /48 (IPv6). The hashes live in memory, in
token buckets that are dropped as soon as they are full again; nothing is logged or stored.
A restart forgets everything, and a hash cannot be turned back into an address without the
key.

``FirstContactLimits`` holds the limits that outlive one request: how often one client may
start again right after ending a chat (a triage restart), and how many of its cases may jump
the queue as urgent in an hour. The case is linked to its client's hash only here, for an
hour, so that the urgent answer given later in the triage can be charged to the client that
started the case; nothing about the link is written anywhere.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from collections import OrderedDict
from dataclasses import dataclass

from bots.clock import Clock

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


HOUR = 3600.0
# At most this many cases and clients are remembered; the oldest are forgotten first (a
# forgotten case may still jump the queue: the limit fails open, never against a visitor).
MAX_REMEMBERED = 100_000


class FirstContactLimits:
    def __init__(self, clock: Clock, *, urgent_per_hour: int, restarts_per_hour: int) -> None:
        self.clock = clock
        self.keyer = ClientKeyer()
        self.urgent = TokenBuckets(urgent_per_hour, HOUR)
        self.restarts = TokenBuckets(restarts_per_hour, HOUR)
        self._case_client: OrderedDict[str, tuple[bytes, float]] = OrderedDict()
        self._ended: OrderedDict[bytes, float] = OrderedDict()

    def _forget_old(self, now: float) -> None:
        cases, ended = self._case_client, self._ended
        while cases and (len(cases) > MAX_REMEMBERED or now - next(iter(cases.values()))[1] >= HOUR):
            cases.popitem(last=False)
        while ended and (len(ended) > MAX_REMEMBERED or now - next(iter(ended.values())) >= HOUR):
            ended.popitem(last=False)

    def restart_wait(self, client: bytes) -> float:
        """Seconds this client must wait before starting again (0: it may start now).

        A start within the hour after the same client ended a chat is a restart; each takes
        a token, and a client without tokens waits.
        """
        now = self.clock.monotonic()
        self._forget_old(now)
        if client not in self._ended:
            return 0.0
        wait = self.restarts.wait(client, now)
        if wait == 0:
            self.restarts.take(client, now)
        return wait

    def started(self, case_id: str, client: bytes) -> None:
        now = self.clock.monotonic()
        self._case_client[case_id] = (client, now)
        self._forget_old(now)

    def ended(self, client: bytes) -> None:
        now = self.clock.monotonic()
        self._ended.pop(client, None)
        self._ended[client] = now
        self._forget_old(now)

    def may_jump_queue(self, case_id: str) -> bool:
        """Whether this case's urgent answer may move it to the front (takes a token if so)."""
        now = self.clock.monotonic()
        self._forget_old(now)
        remembered = self._case_client.get(case_id)
        if remembered is None:
            return True  # not started here within the hour (or forgotten): never held back
        client = remembered[0]
        if self.urgent.wait(client, now) > 0:
            return False
        self.urgent.take(client, now)
        return True
