"""Outreach invite codes: made to be read aloud and typed, stored only as a keyed hash.

A code is twelve characters from a 23-character alphabet without look-alikes (no 0/O, 1/I/L,
2/Z, 5/S, 8/B, U/V: whatever a young person misreads from a screenshot or mishears on the
phone), shown as three groups of four: ``K7MQ-4XH3-CNAD``. Typing is forgiving: case, spaces
and dashes do not matter.

Why guessing is hopeless within the API's limits: 23¹² ≈ 2.2 x 10¹⁶ codes. All clients
together may start at most ``rate_limit.global_per_minute`` sessions (120 by default), so at
most ~6.3 x 10⁷ guesses a year. Even with 10,000 invites open all year (far more than the
per-worker limit lets a team have), the chance that any guess in that year hits one is
~3 x 10⁻⁵, and every invite expires within days and works once. A hit would only route a chat
to a worker; it reveals nothing about who was approached.

The hash is HMAC-SHA256 under a key kept in a secret file (``outreach.invite_key_path``), apart
from the database: a copy of the database holds no code and no way to test one offline.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from keerpunt.base.config import Config

ALPHABET = "34679ACDEFGHJKMNPQRTWXY"
LENGTH = 12
GROUP = 4
MAX_TYPED = 64


def new_code() -> str:
    """A fresh code, grouped for reading aloud."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return "-".join(raw[i : i + GROUP] for i in range(0, LENGTH, GROUP))


def normalise(typed: str) -> str | None:
    """The code as stored, from what was typed or linked; None if it cannot be a code."""
    if len(typed) > MAX_TYPED:
        return None
    raw = "".join(c for c in typed.upper() if c not in " -\t")
    if len(raw) != LENGTH or any(c not in ALPHABET for c in raw):
        return None
    return raw


class InviteKeyer:
    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("the invite key is too short")
        self._key = key

    def hash(self, code: str) -> str | None:
        """The keyed hash of a code (typed or linked), or None if it cannot be a code."""
        raw = normalise(code)
        if raw is None:
            return None
        return hmac.new(self._key, raw.encode(), hashlib.sha256).hexdigest()


def secret_key(path: Path) -> bytes:
    """The key in ``path``; made (0600) when it does not exist yet (invite and return-code keys)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # made at the same moment by another process: use that one
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_urlsafe(48))
    return path.read_text("utf-8").strip().encode()


def invite_key(config: Config) -> bytes:
    """The key from ``outreach.invite_key_path``."""
    return secret_key(config.path(config.outreach.invite_key_path))
