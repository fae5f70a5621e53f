"""What the return-code tests share (docs/return-code.md): the config that switches it on, a
Synapse rendered with it, and the widget's derivation redone in Python."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterator
from typing import Any

import pytest

from .synapse import SynapseProcess, start_synapse

ENABLED: dict[str, Any] = {"return_code": {"enabled": True}}


def synapse_with_return_codes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SynapseProcess]:
    """For a module's ``synapse`` fixture: return codes on, so MSC3814 (dehydrated devices) too."""
    proc = start_synapse(tmp_path_factory.mktemp("synapse-return"), overrides=ENABLED)
    yield proc
    proc.stop()


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def derived(code: str, word: str) -> dict[str, str]:
    """lookup and verifier of a code as shown ("tafel-regen-vosje-mantel") and a second word."""
    words, second = code.strip().lower().encode(), word.strip().lower().encode()
    lookup = hashlib.pbkdf2_hmac("sha512", words, b"nl.keerpunt.return.v1.lookup", 500_000, 32)
    master = hashlib.pbkdf2_hmac("sha512", words + b"\x00" + second, b"nl.keerpunt.return.v1.master", 500_000, 64)
    prk = hmac.new(b"\x00" * 32, master, hashlib.sha256).digest()
    verifier = hmac.new(prk, b"verifier\x01", hashlib.sha256).digest()
    return {"lookup": b64(lookup), "verifier": b64(verifier)}
