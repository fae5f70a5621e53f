"""Checks of ``bots.challenge`` (the proof of work before a new chat, docs/abuse.md)."""

from __future__ import annotations

from keerpunt.base.config.errors import ConfigError
from keerpunt.base.config.model import Config

# The counter the widget sends is a 32-bit number; far below that, a level would take hours.
MAX_CHALLENGE_NUMBER = 10_000_000


def validate_challenge(config: Config) -> None:
    ch = config.bots.challenge
    if not 1 <= ch.cost <= 1_000_000:
        raise ConfigError("bots.challenge.cost", "must be between 1 and 1000000 rounds")
    for name in ("normal", "raised", "hard"):
        if not 1 <= getattr(ch, name) <= MAX_CHALLENGE_NUMBER:
            raise ConfigError(f"bots.challenge.{name}", f"must be between 1 and {MAX_CHALLENGE_NUMBER}")
    if ch.raised < ch.normal:
        raise ConfigError("bots.challenge.raised", f"must not be lower than bots.challenge.normal ({ch.normal})")
    if ch.hard < ch.raised:
        raise ConfigError("bots.challenge.hard", f"must not be lower than bots.challenge.raised ({ch.raised})")
    if not 1 <= ch.expires_minutes <= 60:
        raise ConfigError("bots.challenge.expires_minutes", "must be between 1 and 60 minutes")
    if not 0 <= ch.raise_below_ready <= 1:
        raise ConfigError("bots.challenge.raise_below_ready", "must be a share between 0 (off) and 1")
    if ch.raise_starts_per_minute < 1:
        raise ConfigError("bots.challenge.raise_starts_per_minute", "must be at least 1")
