"""Validation of ``async:`` (write now, answered later; docs/write-later.md)."""

from __future__ import annotations

from keerpunt.base.config.errors import ConfigError
from keerpunt.base.config.model import Config

# An answer promised more than a week after the next opening is no promise.
MAX_ANSWER_HOURS = 168


def validate_async(config: Config) -> None:
    later = config.async_
    if later.offer_after_minutes <= 0:
        raise ConfigError("async.offer_after_minutes", "must be more than 0 minutes")
    if not 1 <= later.answer_within_hours <= MAX_ANSWER_HOURS:
        raise ConfigError("async.answer_within_hours", f"must be between 1 and {MAX_ANSWER_HOURS} hours")
    if later.keep_days < 1:
        raise ConfigError("async.keep_days", "must be at least 1 day")
    if later.keep_days > config.return_code.valid_days:
        # The visitor reads the answer with their code: a case kept longer than the code could
        # be answered but never read.
        raise ConfigError(
            "async.keep_days", f"must not be longer than return_code.valid_days ({config.return_code.valid_days})"
        )
    if later.enabled and not config.return_code.enabled:
        raise ConfigError("async.enabled", "needs return_code.enabled: the visitor reads the answer with a return code")
