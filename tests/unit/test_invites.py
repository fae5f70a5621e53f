"""Outreach invite codes: readable, forgiving to type, stored only as a keyed hash."""

from __future__ import annotations

import re

import pytest

from bots.visitors.invites import ALPHABET, InviteKeyer, new_code, normalise


def test_codes_are_three_groups_of_four_without_look_alikes() -> None:
    codes = {new_code() for _ in range(500)}
    assert len(codes) == 500
    for code in codes:
        assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}", code)
    used = set("".join(codes).replace("-", ""))
    assert used <= set(ALPHABET)
    assert not used & set("0O1IL2Z5S8BUV")


@pytest.mark.parametrize("typed", ["k7mq-4xh3-cnad", "K7MQ 4XH3 CNAD", " K7MQ4XH3CNAD ", "k7mq4-xh3cn-ad"])
def test_typing_is_forgiving(typed: str) -> None:
    assert normalise(typed) == "K7MQ4XH3CNAD"


@pytest.mark.parametrize("typed", ["", "K7MQ-4XH3-CNA", "K7MQ-4XH3-CNADE", "K0MQ-4XH3-CNAD", "x" * 65])
def test_what_cannot_be_a_code_is_none(typed: str) -> None:
    assert normalise(typed) is None


def test_the_hash_is_keyed_and_never_contains_the_code() -> None:
    one, two = InviteKeyer(b"k" * 32), InviteKeyer(b"j" * 32)
    code = new_code()
    digest = one.hash(code)
    assert digest is not None and digest == one.hash(code.lower().replace("-", " "))
    assert digest != two.hash(code)
    assert normalise(code) not in (digest or "").upper()
    assert one.hash("no") is None
    with pytest.raises(ValueError):
        InviteKeyer(b"short")
