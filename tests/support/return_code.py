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


def derived(code: str, word: str) -> dict[str, str]:
    """lookup and verifier of a code as shown ("tafel-regen-vosje-mantel") and a second word."""
    words, second = code.strip().lower().encode(), word.strip().lower().encode()
    lookup = hashlib.pbkdf2_hmac("sha512", words, b"nl.keerpunt.return.v1.lookup", 500_000, 32)
    master = hashlib.pbkdf2_hmac("sha512", words + b"\x00" + second, b"nl.keerpunt.return.v1.master", 500_000, 64)
    prk = hmac.new(b"\x00" * 32, master, hashlib.sha256).digest()
    verifier = hmac.new(prk, b"verifier\x01", hashlib.sha256).digest()
    return {"lookup": b64(lookup), "verifier": b64(verifier)}
