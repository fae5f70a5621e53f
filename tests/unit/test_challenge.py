"""The proof of work's levels and answers (bots.sessions.challenge) and the dismissed networks'
hashes under a daily key (bots.networks): SECURITY.md 39, without Synapse."""

from __future__ import annotations

import base64
import json
from typing import Any

import altcha
import pytest

from bots.networks import DAY_SECONDS, KEEP_DAYS, NetworkMemory
from bots.sessions.challenge import ChallengeRefused, Challenges, ChallengeSettings
from keerpunt.base.config import ConfigError
from tests.support.bots import FakeClock
from tests.support.config import example_config

VISITOR, NEIGHBOUR, ELSEWHERE = "203.0.113.7", "203.0.113.200", "198.51.100.9"
SMALL = {"normal": 5, "raised": 20, "hard": 80}


def settings(**over: Any) -> ChallengeSettings:
    base = ChallengeSettings(
        enabled=True,
        cost=10,
        numbers=dict(SMALL),  # type: ignore[arg-type]
        expires_seconds=600,
        raise_below_ready=0.5,
        raise_starts_per_minute=3,
        timezone="Europe/Amsterdam",
    )
    return ChallengeSettings(**{**base.__dict__, **over})


class Pool:
    def __init__(self, ready: int = 4, target: int = 4) -> None:
        self.ready, self.target = ready, target

    def __call__(self) -> tuple[int, int]:
        return self.ready, self.target


def made(clock: FakeClock | None = None, pool: Pool | None = None, **over: Any) -> tuple[Challenges, NetworkMemory]:
    clock = clock or FakeClock()
    networks = NetworkMemory(clock)
    return Challenges(settings(**over), networks, pool or Pool(), clock), networks


def solved(challenge: dict[str, Any]) -> str:
    c = altcha.Challenge.from_dict(challenge)
    solution = altcha.solve_challenge(c)
    assert solution is not None
    return str(altcha.Payload(c, solution).to_base64())


def test_the_shipped_levels_rise_from_normal_to_raised_to_hard() -> None:
    ch = example_config().bots.challenge
    assert ch.enabled and ch.normal < ch.raised < ch.hard


def test_everyone_gets_the_normal_level_while_nothing_presses() -> None:
    challenges, _ = made()
    for _ in range(3):
        level, challenge = challenges.issue(VISITOR)
        assert level == "normal" and challenge["parameters"]["data"] == {"level": "normal"}


def test_a_draining_pool_raises_the_level_for_everyone() -> None:
    pool = Pool(ready=1, target=4)
    challenges, _ = made(pool=pool)
    assert challenges.issue(VISITOR)[0] == "raised"
    assert challenges.issue(ELSEWHERE)[0] == "raised"
    pool.ready = 2  # half of the target: no longer under it
    assert challenges.issue(VISITOR)[0] == "normal"


def test_the_pool_is_ignored_when_its_share_is_off_or_there_is_no_pool() -> None:
    assert made(pool=Pool(0, 4), raise_below_ready=0)[0].issue(VISITOR)[0] == "normal"
    assert made(pool=Pool(0, 0))[0].issue(VISITOR)[0] == "normal"


def test_many_challenges_a_minute_from_one_network_raise_only_that_network() -> None:
    clock = FakeClock()
    challenges, _ = made(clock)
    assert [challenges.issue(VISITOR)[0] for _ in range(3)] == ["normal"] * 3
    assert challenges.issue(NEIGHBOUR)[0] == "raised"  # the same /24
    assert challenges.issue(ELSEWHERE)[0] == "normal"
    clock.advance(60)
    assert challenges.issue(VISITOR)[0] == "normal"


def test_a_dismissed_network_gets_the_hard_level_for_a_day_and_others_do_not() -> None:
    clock = FakeClock()
    challenges, networks = made(clock)
    networks.started("case-1", VISITOR)
    assert networks.dismiss("case-1")
    assert challenges.issue(NEIGHBOUR)[0] == "hard"
    assert challenges.issue(ELSEWHERE)[0] == "normal"
    clock.advance(DAY_SECONDS - 60)
    assert challenges.level(VISITOR) == "hard"
    clock.advance(120)
    assert challenges.level(VISITOR) == "normal"


def test_a_case_is_dismissed_only_once_and_an_unknown_one_slows_nothing() -> None:
    _, networks = made()
    networks.started("case-1", VISITOR)
    assert networks.dismiss("case-1") and not networks.dismiss("case-1")
    assert not networks.dismiss("never-started")


def test_a_solved_challenge_starts_once() -> None:
    challenges, _ = made()
    answer = solved(challenges.issue(VISITOR)[1])
    challenges.check(answer, VISITOR)
    with pytest.raises(ChallengeRefused, match="challenge_invalid"):
        challenges.check(answer, VISITOR)


@pytest.mark.parametrize(
    "spoil",
    [
        lambda d: d["solution"].update(derivedKey="00" * 32),  # a key not found by work
        lambda d: d["challenge"]["parameters"].update(keyPrefix="00"),  # an easier prefix
        lambda d: d["challenge"]["parameters"].update(data={"level": "hard"}),  # another level
        lambda d: d["challenge"].update(signature="ab" * 32),  # a signature of its own
        lambda d: d["challenge"].pop("signature"),
        lambda d: d.pop("solution"),
    ],
)
def test_an_altered_answer_is_refused(spoil: Any) -> None:
    challenges, _ = made()
    data = json.loads(base64.b64decode(solved(challenges.issue(VISITOR)[1])))
    spoil(data)
    with pytest.raises(ChallengeRefused, match="challenge_invalid"):
        challenges.check(base64.b64encode(json.dumps(data).encode()).decode(), VISITOR)


@pytest.mark.parametrize("answer", [None, "", "%%%", "bm9wZQ==", base64.b64encode(b"[]").decode(), "A" * 5000])
def test_no_answer_or_a_malformed_one_is_refused_with_a_code(answer: str | None) -> None:
    challenges, _ = made()
    with pytest.raises(ChallengeRefused) as refused:
        challenges.check(answer, VISITOR)
    assert refused.value.code == ("challenge_required" if answer is None else "challenge_invalid")


def test_a_challenge_of_another_bots_process_or_past_its_expiry_is_refused() -> None:
    clock = FakeClock()
    mine, _ = made(clock)
    theirs, _ = made(clock)
    with pytest.raises(ChallengeRefused):
        mine.check(solved(theirs.issue(VISITOR)[1]), VISITOR)
    answer = solved(mine.issue(VISITOR)[1])
    clock.advance(601)
    with pytest.raises(ChallengeRefused):
        mine.check(answer, VISITOR)


def test_a_normal_challenge_asked_for_before_a_dismissal_does_not_do_after_it() -> None:
    challenges, networks = made()
    networks.started("case-1", VISITOR)
    before = solved(challenges.issue(VISITOR)[1])
    networks.dismiss("case-1")
    with pytest.raises(ChallengeRefused):
        challenges.check(before, VISITOR)
    challenges.check(solved(challenges.issue(VISITOR)[1]), VISITOR)  # the hard one does


async def test_challenges_are_counted_per_day_and_level_without_an_address() -> None:
    class Stats:
        def __init__(self) -> None:
            self.rows: list[tuple[str, str, str, int]] = []

        async def add(self, day: str, measure: str, dimension: str, count: int = 1) -> None:
            self.rows.append((day, measure, dimension, count))

    class Stores:
        def __init__(self) -> None:
            self.stats = Stats()

    challenges, networks = made()
    networks.started("case-1", VISITOR)
    networks.dismiss("case-1")
    challenges.issue(VISITOR)
    challenges.issue(ELSEWHERE)
    challenges.issue(ELSEWHERE)
    stores = Stores()
    await challenges.flush(stores)  # type: ignore[arg-type]
    counted: dict[tuple[str, str], int] = {}
    for _, measure, dimension, n in stores.stats.rows:
        counted[(measure, dimension)] = counted.get((measure, dimension), 0) + n
    assert counted == {("challenges", "total"): 3, ("challenges", "level:normal"): 2, ("challenges", "level:hard"): 1}
    assert not any(VISITOR in repr(row) or ELSEWHERE in repr(row) for row in stores.stats.rows)
    await challenges.flush(stores)  # flushed once: nothing is counted twice
    assert len(stores.stats.rows) == 4


# The hashes (bots.networks)


def test_a_network_is_held_only_as_a_keyed_hash_that_names_no_address() -> None:
    _, networks = made()
    networks.started("case-1", VISITOR)
    networks.dismiss("case-1")
    held = repr(vars(networks))
    for needle in ("203.0.113", "cb007100", "\\xcb\\x00q"):  # the address, its /24 in hex and as bytes
        assert needle not in held
    assert len(networks) == 1


def test_the_same_network_hashes_alike_within_a_day_and_differently_the_next() -> None:
    clock = FakeClock()
    _, networks = made(clock)
    networks.started("a", VISITOR)
    networks.started("b", NEIGHBOUR)
    first = dict(networks._cases)
    assert first["a"] == first["b"]
    clock.advance(DAY_SECONDS)
    networks.started("c", VISITOR)
    assert networks._cases["c"][1] != first["a"][1]


def test_keys_and_every_hash_made_under_them_are_forgotten_after_three_days() -> None:
    clock = FakeClock()
    _, networks = made(clock)
    networks.started("old", VISITOR)
    networks.started("dismissed", ELSEWHERE)
    networks.dismiss("dismissed")
    clock.advance(KEEP_DAYS * DAY_SECONDS)
    networks.started("new", NEIGHBOUR)
    assert len(networks._keys) == 1 and list(networks._cases) == ["new"] and not networks._dismissed


def test_a_case_started_late_yesterday_and_dismissed_today_slows_its_network_for_24_hours() -> None:
    clock = FakeClock()
    _, networks = made(clock)
    clock.advance(DAY_SECONDS - (clock.now() % DAY_SECONDS) - 60)  # 23:59 UTC
    networks.started("late", VISITOR)
    clock.advance(DAY_SECONDS - 120)  # 23:57 the next day
    assert networks.dismiss("late")
    clock.advance(DAY_SECONDS - 60)
    assert networks.dismissed(NEIGHBOUR)
    clock.advance(120)
    assert not networks.dismissed(NEIGHBOUR)


@pytest.mark.parametrize(
    ("over", "key"),
    [
        ({"normal": 0}, "bots.challenge.normal"),
        ({"raised": 50, "normal": 100}, "bots.challenge.raised"),
        ({"hard": 10, "raised": 20, "normal": 5}, "bots.challenge.hard"),
        ({"hard": 2**32}, "bots.challenge.hard"),
        ({"cost": 0}, "bots.challenge.cost"),
        ({"expires_minutes": 0}, "bots.challenge.expires_minutes"),
        ({"raise_below_ready": 1.5}, "bots.challenge.raise_below_ready"),
        ({"raise_starts_per_minute": 0}, "bots.challenge.raise_starts_per_minute"),
        ({"enabled": "yes"}, "bots.challenge.enabled"),
    ],
)
def test_a_wrong_challenge_setting_is_refused_naming_its_key(over: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError) as error:
        example_config({"bots": {"challenge": over}})
    assert error.value.key == key
