"""Cross-signing keys: made once, kept secret, and the device → self-signing → master chain checked."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from signedjson.key import encode_verify_key_base64, generate_signing_key, get_verify_key
from signedjson.sign import sign_json

from bots.crypto.cross_signing import KEY_FILE, CrossSigningError, CrossSigningKeys, load_or_create_keys
from bots.crypto.trust import UserKeys, device_cross_signed, parse_keys_query
from bots.ids import UserID

USER = UserID("@keerpunt:localhost")
DEVICE = "BOTDEVICE"


def _device(user: str = USER, device_id: str = DEVICE) -> tuple[dict[str, Any], Any]:
    key = generate_signing_key(device_id)
    body = {
        "user_id": user,
        "device_id": device_id,
        "algorithms": ["m.olm.v1.curve25519-aes-sha2", "m.megolm.v1.aes-sha2"],
        "keys": {f"ed25519:{device_id}": encode_verify_key_base64(get_verify_key(key)), f"curve25519:{device_id}": "c"},
    }
    return sign_json(body, user, key), key


def _query(keys: CrossSigningKeys, devices: dict[str, Any]) -> dict[str, Any]:
    upload = keys.upload_body()
    return {
        "device_keys": {keys.user_id: devices},
        "master_keys": {keys.user_id: upload["master_key"]},
        "self_signing_keys": {keys.user_id: upload["self_signing_key"]},
    }


def test_keys_are_created_once_and_kept_in_a_private_file(tmp_path: Path) -> None:
    first, created = load_or_create_keys(tmp_path, USER)
    assert created
    assert (tmp_path / KEY_FILE).stat().st_mode & 0o777 == 0o600
    again, created_again = load_or_create_keys(tmp_path, USER)
    assert not created_again
    assert again.master_public == first.master_public
    assert again.self_signing_public == first.self_signing_public


def test_a_key_file_of_another_account_is_refused(tmp_path: Path) -> None:
    load_or_create_keys(tmp_path, USER)
    with pytest.raises(CrossSigningError):
        load_or_create_keys(tmp_path, UserID("@other:localhost"))


def test_a_signed_device_verifies_through_the_whole_chain() -> None:
    keys = CrossSigningKeys.generate(USER)
    device, _ = _device()
    signed = keys.sign_device({**device, "unsigned": {"device_display_name": "x"}})
    assert "unsigned" not in signed
    user = parse_keys_query(_query(keys, {DEVICE: signed}))[USER]
    assert device_cross_signed(user, DEVICE)
    assert device_cross_signed(user, DEVICE, expected_master=keys.master_public)
    assert device_cross_signed(user, DEVICE, curve25519="c")


def test_the_chain_fails_when_any_link_is_missing_or_wrong() -> None:
    keys = CrossSigningKeys.generate(USER)
    device, _ = _device()
    signed = keys.sign_device(device)
    good = _query(keys, {DEVICE: signed})
    assert not device_cross_signed(parse_keys_query(_query(keys, {DEVICE: device}))[USER], DEVICE), "unsigned device"
    assert not device_cross_signed(parse_keys_query(good)[USER], DEVICE, expected_master="other"), "unpinned master"
    assert not device_cross_signed(parse_keys_query(good)[USER], DEVICE, curve25519="d"), "different curve key"

    tampered = copy.deepcopy(good)
    tampered["device_keys"][USER][DEVICE]["keys"][f"curve25519:{DEVICE}"] = "evil"
    assert not device_cross_signed(parse_keys_query(tampered)[USER], DEVICE), "tampered device keys"

    other = CrossSigningKeys.generate(USER)
    foreign_ssk = copy.deepcopy(good)
    foreign_ssk["self_signing_keys"][USER] = other.upload_body()["self_signing_key"]
    assert not device_cross_signed(parse_keys_query(foreign_ssk)[USER], DEVICE), "self-signing key not by master"

    no_master = copy.deepcopy(good)
    del no_master["master_keys"]
    assert not device_cross_signed(parse_keys_query(no_master)[USER], DEVICE)

    changed = parse_keys_query(good)[USER]
    assert not device_cross_signed(UserKeys(USER, changed.master, changed.self_signing, changed.devices, True), DEVICE)


def test_a_device_signed_for_another_user_is_not_trusted() -> None:
    keys = CrossSigningKeys.generate(USER)
    device, _ = _device(user="@mallory:localhost")
    signed = keys.sign_device(device)
    assert not device_cross_signed(parse_keys_query(_query(keys, {DEVICE: signed}))[USER], DEVICE)


def test_upload_body_names_keys_by_their_public_key() -> None:
    body = CrossSigningKeys.generate(USER).upload_body()
    for name, usage in (
        ("master_key", "master"),
        ("self_signing_key", "self_signing"),
        ("user_signing_key", "user_signing"),
    ):
        ((key_id, public),) = body[name]["keys"].items()
        assert key_id == f"ed25519:{public}"
        assert body[name]["usage"] == [usage]
    master_id = next(iter(body["master_key"]["keys"]))
    assert master_id in body["self_signing_key"]["signatures"][USER]
    assert master_id in body["user_signing_key"]["signatures"][USER]


class _Keys:
    """/keys/query answered from a fixed body (the trust policy's only Synapse call)."""

    def __init__(self, body: dict[str, Any]) -> None:
        self.body = body

    async def request(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return self.body


class _Pins:
    def __init__(self) -> None:
        self.pinned: dict[str, str] = {}

    async def pin(self, user: str, master: str, now: int) -> tuple[str, bool]:
        new = user not in self.pinned
        return self.pinned.setdefault(user, master), new


class _Clock:
    def now(self) -> float:
        return 1.0

    def monotonic(self) -> float:
        return 1.0


async def test_every_device_must_be_cross_signed_for_an_event_that_names_none() -> None:
    from bots.crypto.trust import TrustPolicy

    keys = CrossSigningKeys.generate(USER)
    signed = keys.sign_device(_device()[0])
    other, _ = _device(device_id="NEWDEVICE")
    changed: list[tuple[str, str]] = []

    async def told(user: str, master: str) -> None:
        changed.append((user, master))

    pins = _Pins()
    for devices, expected in (({DEVICE: signed}, True), ({DEVICE: signed, "NEWDEVICE": other}, False), ({}, False)):
        trust = TrustPolicy(_Keys(_query(keys, devices)), pins, _Clock(), on_change=told)  # type: ignore[arg-type]
        assert await trust.all_devices_cross_signed(USER) is expected, devices
    assert changed == []
    # A new identity: nothing is trusted, and the policy says so once per look.
    reset = CrossSigningKeys.generate(USER)
    query = _Keys(_query(reset, {DEVICE: reset.sign_device(_device()[0])}))
    trust = TrustPolicy(query, pins, _Clock(), on_change=told)  # type: ignore[arg-type]
    assert await trust.all_devices_cross_signed(USER) is False
    assert changed == [(USER, reset.master_public)]


async def test_a_query_right_after_an_upload_is_asked_again_until_it_shows_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """With Synapse's workers the query may answer from before the upload for a moment."""
    from bots.crypto import cross_signing

    answers: list[dict[str, str]] = [{}, {"@a:b": "stale"}, {"@a:b": "fresh"}]
    calls: list[list[str]] = []

    async def query(api: object, users: list[str]) -> dict[str, str]:
        calls.append(users)
        return answers.pop(0) if answers else {"@a:b": "fresh"}

    monkeypatch.setattr(cross_signing, "query_keys", query)
    found = await cross_signing.query_own_keys_until(None, "@a:b", lambda k: k == "fresh")  # type: ignore[arg-type]
    assert found == "fresh" and calls == [["@a:b"]] * 3

    # Never fresh: after the wait, the last answer goes back (the caller then raises).
    monkeypatch.setattr(cross_signing, "READ_AFTER_WRITE_SECONDS", 0.3)
    answers[:] = [{"@a:b": "stale"}] * 100
    assert await cross_signing.query_own_keys_until(None, "@a:b", lambda k: k == "fresh") == "stale"  # type: ignore[arg-type]
