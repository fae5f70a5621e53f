"""Cross-signing for the bots' devices (MSC4153: Element ignores devices their owner has not signed).

matrix-nio has no cross-signing, so the bots do it with matrix-org's ``signedjson``:

1. once per account, three Ed25519 keys (master, self-signing, user-signing) are created and
   written to a secret file (0600) *before* they are uploaded, so a crash can never leave an
   identity on the server whose private keys are lost;
2. ``/keys/device_signing/upload`` publishes them (re-uploading identical keys is a no-op
   for Synapse, so this is safe on every start);
3. the device's keys from ``/keys/query`` are signed with the self-signing key and posted to
   ``/keys/signatures/upload`` (its ``failures`` must be empty);
4. ``/keys/query`` is read back and the device → self-signing → master chain verified; the
   bot refuses to run otherwise.

A new identity on each start would make every peer warn "identity reset": the keys are
created once and never replaced automatically.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from signedjson.key import (
    decode_signing_key_base64,
    encode_signing_key_base64,
    encode_verify_key_base64,
    generate_signing_key,
    get_verify_key,
)
from signedjson.sign import sign_json

from bots.crypto.trust import UserKeys, device_cross_signed, parse_keys_query
from bots.homeserver.admin import SynapseAdmin
from bots.ids import DeviceID, UserID
from keerpunt.base.files import write_private

if TYPE_CHECKING:
    from signedjson.types import SigningKey

log = logging.getLogger(__name__)

KEY_FILE = "cross_signing_keys.json"
# How long a key upload may take to show in /keys/query (replication between Synapse's workers).
READ_AFTER_WRITE_SECONDS = 10.0
ROLES = ("master", "self_signing", "user_signing")


class CrossSigningError(Exception):
    """The bot's cross-signing identity cannot be set up; an operator must act."""


def _with_public_version(key: SigningKey) -> SigningKey:
    """Matrix names a cross-signing key by its public key: ``ed25519:<public>``."""
    public = encode_verify_key_base64(get_verify_key(key))
    return decode_signing_key_base64("ed25519", public, encode_signing_key_base64(key))


def public_key(key: SigningKey) -> str:
    return str(encode_verify_key_base64(get_verify_key(key)))


@dataclass(frozen=True)
class CrossSigningKeys:
    user_id: UserID
    master: SigningKey
    self_signing: SigningKey
    user_signing: SigningKey

    @classmethod
    def generate(cls, user_id: UserID) -> CrossSigningKeys:
        keys = [_with_public_version(generate_signing_key("new")) for _ in ROLES]
        return cls(user_id, *keys)

    @property
    def master_public(self) -> str:
        return public_key(self.master)

    @property
    def self_signing_public(self) -> str:
        return public_key(self.self_signing)

    def _key_object(self, usage: str, key: SigningKey) -> dict[str, Any]:
        pub = public_key(key)
        return {"user_id": self.user_id, "usage": [usage], "keys": {f"ed25519:{pub}": pub}}

    def upload_body(self) -> dict[str, Any]:
        master = self._key_object("master", self.master)
        self_signing = sign_json(self._key_object("self_signing", self.self_signing), self.user_id, self.master)
        user_signing = sign_json(self._key_object("user_signing", self.user_signing), self.user_id, self.master)
        return {"master_key": master, "self_signing_key": self_signing, "user_signing_key": user_signing}

    def sign_device(self, device_keys: dict[str, Any]) -> dict[str, Any]:
        """Return ``device_keys`` (as from /keys/query) signed with the self-signing key."""
        body = copy.deepcopy({k: v for k, v in device_keys.items() if k != "unsigned"})  # sign_json mutates
        return dict(sign_json(body, self.user_id, self.self_signing))

    def to_json(self) -> str:
        seeds = {role: encode_signing_key_base64(getattr(self, role)) for role in ROLES}
        return json.dumps({"user_id": self.user_id, **seeds})

    @classmethod
    def from_json(cls, text: str) -> CrossSigningKeys:
        data = json.loads(text)
        keys = [_with_public_version(decode_signing_key_base64("ed25519", "x", data[role])) for role in ROLES]
        return cls(UserID(data["user_id"]), *keys)


def load_or_create_keys(directory: Path, user_id: UserID) -> tuple[CrossSigningKeys, bool]:
    """The account's cross-signing keys from ``directory``; created (and saved) if absent."""
    path = directory / KEY_FILE
    if path.exists():
        keys = CrossSigningKeys.from_json(path.read_text("utf-8"))
        if keys.user_id != user_id:
            raise CrossSigningError(f"{path} belongs to {keys.user_id}, not {user_id}")
        return keys, False
    keys = CrossSigningKeys.generate(user_id)
    write_private(path, keys.to_json())
    return keys, True


async def query_keys(api: SynapseAdmin, users: list[str]) -> dict[UserID, UserKeys]:
    data = await api.request("POST", "/_matrix/client/v3/keys/query", {"device_keys": {u: [] for u in users}})
    return parse_keys_query(data)


async def query_own_keys_until(
    api: SynapseAdmin, user_id: UserID, done: Callable[[UserKeys | None], bool]
) -> UserKeys | None:
    """``/keys/query`` for ``user_id`` again until ``done`` holds or the wait is over.

    With Synapse's workers an upload is handled by one process and the query by another, which
    learns of it through replication: right after the upload it may still answer what was there
    before (measured under load with ``bench.scale``). One process answers at once.
    """
    delay = 0.05
    deadline = asyncio.get_running_loop().time() + READ_AFTER_WRITE_SECONDS
    while True:
        current = (await query_keys(api, [user_id])).get(user_id)
        if done(current) or asyncio.get_running_loop().time() >= deadline:
            return current
        await asyncio.sleep(delay)
        delay = min(delay * 2, 1.0)


async def ensure_device_cross_signed(
    api: SynapseAdmin, user_id: UserID, device_id: DeviceID, directory: Path
) -> CrossSigningKeys:
    """Make sure ``device_id`` is signed by its owner's identity; raise CrossSigningError if not.

    ``api`` must carry the account's own access token. The device's keys must be uploaded.
    """
    keys, created = load_or_create_keys(directory, user_id)
    current = await query_own_keys_until(api, user_id, lambda k: k is not None and device_id in k.devices)
    server_master = current.master_public if current else None
    if server_master is not None and server_master != keys.master_public:
        hint = (
            "the private keys in the store were lost and new ones were made"
            if created
            else "someone replaced the identity"
        )
        raise CrossSigningError(
            f"{user_id} has a different cross-signing identity on the server than in "
            f"{directory / KEY_FILE} ({hint}). Restore the key file from a backup. Only if it is "
            "truly lost: allow a reset with Synapse's admin API "
            "(POST /_synapse/admin/v1/users/<user>/_allow_cross_signing_replacement_without_uia), "
            "delete the key file and restart — every peer will then see an identity reset."
        )
    if server_master is None:
        # First upload needs no interactive auth (MSC3967); identical re-uploads are no-ops.
        await api.request("POST", "/_matrix/client/v3/keys/device_signing/upload", keys.upload_body())
        log.info("Uploaded the cross-signing identity of %s", user_id)
        current = await query_own_keys_until(
            api, user_id, lambda k: k is not None and k.master_public == keys.master_public and device_id in k.devices
        )
    elif current is not None and current.self_signing_public != keys.self_signing_public:
        raise CrossSigningError(
            f"the self-signing key of {user_id} on the server does not match {directory / KEY_FILE}; "
            "restore the key file from a backup"
        )
    if current is None or device_id not in current.devices:
        raise CrossSigningError(f"device {device_id} of {user_id} has no uploaded keys")
    if not device_cross_signed(current, device_id, expected_master=keys.master_public):
        signed = keys.sign_device(current.devices[device_id])
        result = await api.request("POST", "/_matrix/client/v3/keys/signatures/upload", {user_id: {device_id: signed}})
        if result.get("failures"):
            raise CrossSigningError(f"Synapse refused the device signature: {result['failures']}")
        log.info("Signed device %s of %s with its self-signing key", device_id, user_id)
        current = await query_own_keys_until(
            api,
            user_id,
            lambda k: k is not None and device_cross_signed(k, device_id, expected_master=keys.master_public),
        )
    if current is None or not device_cross_signed(current, device_id, expected_master=keys.master_public):
        raise CrossSigningError(f"device {device_id} of {user_id} is not cross-signed according to /keys/query")
    return keys
