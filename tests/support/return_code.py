"""What the return-code tests share (docs/return-code.md): the config that switches it on, a
Synapse rendered with it, and the widget's derivation redone in Python."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from .synapse import SynapseProcess, start_synapse

ENABLED: dict[str, Any] = {"return_code": {"enabled": True}}
DEHYDRATED = "/_matrix/client/unstable/org.matrix.msc3814.v1/dehydrated_device"


def synapse_with_return_codes(
    tmp_path_factory: pytest.TempPathFactory, *, production_login: bool = False
) -> Iterator[SynapseProcess]:
    """For a module's ``synapse`` fixture: return codes on, so MSC3814 (dehydrated devices) too;
    ``production_login``: Synapse's own login limits, the address from X-Forwarded-For."""
    proc = start_synapse(
        tmp_path_factory.mktemp("synapse-return"), overrides=ENABLED, production_login=production_login
    )
    yield proc
    proc.stop()


async def put_dehydrated_device(base: str, token: str, user: str, device_id: str = "DEHYDRATEDX") -> None:
    """What the widget's ``startDehydration()`` puts: a second device of the visitor's own (with
    stand-in keys; the widget's Rust crypto makes real, cross-signed ones)."""
    body = {
        "device_id": device_id,
        "device_data": {"algorithm": "m.dehydration.v1.olm"},
        "initial_device_display_name": "Keerpunt",
        "device_keys": {
            "user_id": user,
            "device_id": device_id,
            "algorithms": ["m.olm.v1.curve25519-aes-sha2", "m.megolm.v1.aes-sha2"],
            "keys": {f"curve25519:{device_id}": unpadded(32), f"ed25519:{device_id}": unpadded(32)},
            "signatures": {user: {f"ed25519:{device_id}": unpadded(64)}},
        },
    }
    headers = {"Authorization": f"Bearer {token}"}
    async with aiohttp.ClientSession() as http, http.put(base + DEHYDRATED, json=body, headers=headers) as resp:
        assert resp.status == 200, await resp.text()


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def unpadded(size: int) -> str:
    """Random bytes in Matrix's key encoding (standard base64 without padding)."""
    return base64.b64encode(os.urandom(size)).decode().rstrip("=")


def _master(code: str, word: str) -> bytes:
    words, second = code.strip().lower().encode(), word.strip().lower().encode()
    return hashlib.pbkdf2_hmac("sha512", words + b"\x00" + second, b"nl.keerpunt.return.v1.master", 500_000, 64)


def _hkdf(master: bytes, info: bytes, salt: bytes | None = None) -> bytes:
    """HKDF-SHA256 for 32 bytes (one block); no salt is HashLen zeros, as RFC 5869 says."""
    prk = hmac.new(salt or b"\x00" * 32, master, hashlib.sha256).digest()
    return hmac.new(prk, info + b"\x01", hashlib.sha256).digest()


def derived(code: str, word: str) -> dict[str, str]:
    """lookup and verifier of a code as shown ("tafel-regen-vosje-mantel") and a second word."""
    words = code.strip().lower().encode()
    lookup = hashlib.pbkdf2_hmac("sha512", words, b"nl.keerpunt.return.v1.lookup", 500_000, 32)
    return {"lookup": b64(lookup), "verifier": b64(_hkdf(_master(code, word), b"verifier"))}


def storage_key(code: str, word: str, part: bytes | None) -> bytes:
    """The secret-storage key of a code and word, with the bots' part (None: as made before the
    bots took part)."""
    return _hkdf(_master(code, word), b"ssss", part)


def bots_part(key: bytes, values: dict[str, str]) -> bytes:
    """The bots' part of the secret-storage key (their HMAC under the return-code key ``key``)."""
    raw = [base64.urlsafe_b64decode(values[name] + "=") for name in ("lookup", "verifier")]
    return hmac.new(key, b"ssss\x00" + raw[0] + raw[1], hashlib.sha256).digest()


def opens(key: bytes, key_info: dict[str, Any]) -> bool:
    """Whether ``key`` is the secret-storage key ``key_info`` describes: the check every client
    makes (m.secret_storage.v1.aes-hmac-sha2: 32 zero bytes encrypted under the key with the
    stored ``iv``, and the HMAC of that compared with the stored ``mac``). What an attacker with
    a copy of Synapse's database would test each guess against."""
    prk = hmac.new(b"\x00" * 32, key, hashlib.sha256).digest()  # HKDF, salt: 32 zeros, info: "" (the name)
    aes_key = hmac.new(prk, b"\x01", hashlib.sha256).digest()
    mac_key = hmac.new(prk, aes_key + b"\x02", hashlib.sha256).digest()
    iv = base64.b64decode(key_info["iv"] + "=" * (-len(key_info["iv"]) % 4))
    encryptor = Cipher(algorithms.AES(aes_key), modes.CTR(iv)).encryptor()
    ciphertext = encryptor.update(b"\x00" * 32) + encryptor.finalize()
    mac = base64.b64encode(hmac.new(mac_key, ciphertext, hashlib.sha256).digest()).decode().rstrip("=")
    return hmac.compare_digest(mac, str(key_info["mac"]).rstrip("="))
