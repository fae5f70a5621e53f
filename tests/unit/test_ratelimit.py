"""Rate limiting by a keyed hash of the truncated address, per client and global."""

from __future__ import annotations

import pytest

from bots.limits import ClientKeyer, FirstContactLimits, TokenBuckets, client_network
from bots.visitors.http import ApiError
from bots.visitors.ratelimit import SessionRateLimiter


class Clock:
    def __init__(self) -> None:
        self.t = 1_000_000.0

    def now(self) -> float:
        return self.t


def test_ipv4_is_truncated_to_a_24() -> None:
    assert client_network("192.0.2.10") == client_network("192.0.2.250")
    assert client_network("192.0.2.10") != client_network("192.0.3.10")


def test_ipv6_is_truncated_to_a_48_and_mapped_ipv4_counts_as_ipv4() -> None:
    assert client_network("2001:db8:1:2::1") == client_network("2001:db8:1:ffff::9")
    assert client_network("2001:db8:1::1") != client_network("2001:db8:2::1")
    assert client_network("::ffff:192.0.2.10") == client_network("192.0.2.77")


def test_garbage_addresses_share_one_bucket() -> None:
    assert client_network(None) == client_network("not an address") == b"unknown"


def test_the_key_is_a_keyed_hash_that_changes_with_the_process_key() -> None:
    one, two = ClientKeyer(), ClientKeyer()
    assert one.key("192.0.2.1") == one.key("192.0.2.99")
    assert one.key("192.0.2.1") != two.key("192.0.2.1")
    assert b"192" not in one.key("192.0.2.1") and bytes([192, 0, 2]) not in one.key("192.0.2.1")


def test_per_client_limit_answers_429_with_retry_after_and_refills() -> None:
    clock = Clock()
    limiter = SessionRateLimiter(per_client_per_hour=2, global_per_minute=100, clock=clock)
    limiter.check("192.0.2.1")
    limiter.check("192.0.2.2")
    with pytest.raises(ApiError) as caught:
        limiter.check("192.0.2.3")
    assert caught.value.status == 429
    assert caught.value.headers["Retry-After"] == "1800"
    limiter.check("198.51.100.1")  # someone else is not affected
    clock.t += 1800
    limiter.check("192.0.2.1")


def test_global_limit_applies_to_all_clients_together() -> None:
    clock = Clock()
    limiter = SessionRateLimiter(per_client_per_hour=100, global_per_minute=2, clock=clock)
    limiter.check("192.0.2.1")
    limiter.check("198.51.100.1")
    with pytest.raises(ApiError) as caught:
        limiter.check("203.0.113.1")
    assert caught.value.headers["Retry-After"] == "30"


def test_a_refused_request_takes_no_token() -> None:
    clock = Clock()
    limiter = SessionRateLimiter(per_client_per_hour=1, global_per_minute=1, clock=clock)
    limiter.check("192.0.2.1")
    with pytest.raises(ApiError):
        limiter.check("198.51.100.1")  # global refuses; the client's own bucket stays full
    clock.t += 60
    limiter.check("198.51.100.1")


def test_full_buckets_are_forgotten() -> None:
    buckets = TokenBuckets(2, 60.0)
    buckets.take(b"a", 0.0)
    assert len(buckets) == 1
    buckets.prune(60.0)
    assert len(buckets) == 0


class MonoClock:
    def __init__(self) -> None:
        self.t = 5_000.0

    def now(self) -> float:
        return 1_700_000_000.0 + self.t

    def monotonic(self) -> float:
        return self.t


def test_restarts_after_ending_are_limited_per_client() -> None:
    clock = MonoClock()
    limits = FirstContactLimits(clock, urgent_per_hour=2, restarts_per_hour=2)
    me, other = limits.keyer.key("192.0.2.1"), limits.keyer.key("198.51.100.1")
    # Starting without having ended is not a restart, however often.
    assert all(limits.restart_wait(me) == 0 for _ in range(10))
    limits.ended(me)
    assert limits.restart_wait(me) == 0
    assert limits.restart_wait(me) == 0
    assert limits.restart_wait(me) == pytest.approx(1800)
    assert limits.restart_wait(other) == 0
    clock.t += 3601  # an hour after the end it is a new start again
    assert limits.restart_wait(me) == 0


def test_urgent_cases_per_client_are_limited_and_unknown_cases_never_held_back() -> None:
    clock = MonoClock()
    limits = FirstContactLimits(clock, urgent_per_hour=2, restarts_per_hour=2)
    me = limits.keyer.key("192.0.2.1")
    for case in ("a", "b", "c"):
        limits.started(case, me)
    assert limits.may_jump_queue("a") and limits.may_jump_queue("b")
    assert not limits.may_jump_queue("c")
    assert limits.may_jump_queue("started-elsewhere")
    clock.t += 3601  # the link between case and client is forgotten after an hour
    assert limits.may_jump_queue("c")
