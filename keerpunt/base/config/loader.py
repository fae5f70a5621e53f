"""Load keerpunt.yaml over the shipped example into frozen dataclasses.

Every error names the dotted key (``bots.api.port: expected an integer, got 'x'``).
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re
import types
import typing
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any, Literal, TypeVar, Union, get_args, get_origin, get_type_hints

import yaml

from keerpunt.base.config.challenge import validate_challenge
from keerpunt.base.config.errors import ConfigError
from keerpunt.base.config.later import validate_async
from keerpunt.base.config.model import Config

T = TypeVar("T")

# Values that only make sense as examples. Outside dev they refuse to start.
PLACEHOLDER_MARKERS = ("CHANGE_ME", "example.org", "example.com", "example.net")


def example_text() -> str:
    return resources.files("keerpunt.base.config").joinpath("example.yaml").read_text("utf-8")


def _read_yaml(text: str, origin: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError("", f"{origin} is not valid YAML: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError("", f"{origin} must hold a mapping of keys at the top level")
    return data


def merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """``over`` laid over ``base``: nested mappings are merged, every other value replaces."""
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def _join(prefix: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{prefix}[{key}]"
    return f"{prefix}.{key}" if prefix else key


def _convert(tp: Any, value: Any, key: str) -> Any:  # noqa: C901 - one branch per type
    origin = get_origin(tp)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return _build(tp, value, key)
    if origin is Literal:
        allowed = get_args(tp)
        if value not in allowed:
            choices = ", ".join(repr(a) for a in allowed)
            raise ConfigError(key, f"unknown value {value!r}; use one of {choices}")
        return value
    if origin in (Union, types.UnionType):
        errors = []
        for arg in get_args(tp):
            try:
                return _convert(arg, value, key)
            except ConfigError as exc:
                errors.append(exc.problem)
        raise ConfigError(key, " or ".join(errors))
    if tp is type(None):
        if value is not None:
            raise ConfigError(key, f"expected nothing, got {value!r}")
        return None
    if origin is tuple:
        if not isinstance(value, list):
            raise ConfigError(key, f"expected a list, got {_describe(value)}")
        (item_type, _ellipsis) = get_args(tp)
        return tuple(_convert(item_type, item, _join(key, i)) for i, item in enumerate(value))
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(key, f"expected true or false, got {_describe(value)}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(key, f"expected a whole number, got {_describe(value)}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(key, f"expected a number, got {_describe(value)}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(key, f"expected text, got {_describe(value)}")
        return value
    raise TypeError(f"unsupported config type {tp!r} at {key}")  # a bug in model.py


def _describe(value: Any) -> str:
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value)


def _build(cls: type[T], value: Any, key: str) -> T:
    if not isinstance(value, Mapping):
        raise ConfigError(key or "(top level)", f"expected a mapping, got {_describe(value)}")
    hints = get_type_hints(cls)
    # A field whose name is a Python keyword (``async_``) names its YAML key in its metadata.
    keys = {f.metadata.get("key", f.name): f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    for name in value:
        if name in keys:
            continue
        if f"{name}_file" in keys:
            raise ConfigError(
                _join(key, name),
                f"secrets cannot be set inline; write it to a file and set {name}_file",
            )
        raise ConfigError(_join(key, name), f"unknown key; known keys here: {', '.join(sorted(keys))}")
    kwargs = {}
    for name, attribute in keys.items():
        if name not in value:
            raise ConfigError(_join(key, name), "missing")
        kwargs[attribute] = _convert(hints[attribute], value[name], _join(key, name))
    return cls(**kwargs)


def build_config(data: Mapping[str, Any]) -> Config:
    """Convert an already merged mapping; used by tests and by :func:`load_config`."""
    config = _build(Config, data, "")
    _validate(config)  # the configured hours are checked even when dev does not apply them
    from keerpunt.base.hours import hours_in_force

    return dataclasses.replace(config, hours=hours_in_force(config.mode, config.hours))


def load_config(path: str | Path | None = None, *, data_dir: str | None = None) -> Config:
    """Load the example, lay ``path`` over it, and validate.

    ``data_dir`` (from ``--data-dir``) overrides the file's value.
    """
    data = _read_yaml(example_text(), "the shipped example config")
    if path is not None:
        p = Path(path)
        try:
            text = p.read_text("utf-8")
        except OSError as exc:
            raise ConfigError("", f"cannot read config file {p}: {exc.strerror}") from None
        data = merge(data, _read_yaml(text, str(p)))
    if data_dir is not None:
        data["data_dir"] = data_dir
    return build_config(data)


def _walk(obj: Any, key: str) -> typing.Iterator[tuple[str, Any]]:
    if dataclasses.is_dataclass(obj):
        for f in dataclasses.fields(obj):
            yield from _walk(getattr(obj, f.name), _join(key, f.name))
    elif isinstance(obj, tuple):
        for i, item in enumerate(obj):
            yield from _walk(item, _join(key, i))
    else:
        yield key, obj


def _validate(config: Config) -> None:
    if config.synapse.user_ips_max_age_days > 7 or config.synapse.user_ips_max_age_days < 1:
        raise ConfigError("synapse.user_ips_max_age_days", "must be between 1 and 7 days")
    if config.retention.case_room_days < 1:
        raise ConfigError("retention.case_room_days", "must be at least 1 day")
    if config.portal.workers < 0:
        raise ConfigError("portal.workers", "must be 0 (one per CPU core) or a number of processes")
    for key, value in _walk(config, ""):
        off = key.endswith("metrics_port") and value == 0  # 0: no metrics endpoint
        if key.endswith("port") and isinstance(value, int) and not off and not 0 < value < 65536:
            raise ConfigError(key, f"{value} is not a TCP port")
        if key.endswith("_url") and isinstance(value, str) and value and not value.startswith(("http://", "https://")):
            raise ConfigError(key, f"expected an http(s) URL, got {value!r}")
    _validate_queue(config)
    _validate_lifecycle(config)
    _validate_ready_sessions(config)
    validate_challenge(config)
    _validate_return_code(config)
    validate_async(config)
    _validate_feedback(config)
    _validate_proxies(config)
    if config.handover.reminder_hours <= 0:
        raise ConfigError("handover.reminder_hours", "must be more than 0 hours")
    if not 20 <= config.handover.summary_max_chars <= 4000:
        raise ConfigError("handover.summary_max_chars", "must be between 20 and 4000")
    from keerpunt.base.hours import OpeningHours  # validates every range and date, naming the key

    OpeningHours(config.hours)
    if config.mode == "production":
        _refuse_placeholders(config)


def _validate_return_code(config: Config) -> None:
    code = config.return_code
    if code.valid_days < 1:
        raise ConfigError("return_code.valid_days", "must be at least 1 day")
    if code.valid_days > config.retention.case_room_days:
        # A dormant case keeps its room; a code must never keep it longer than a closed case.
        raise ConfigError(
            "return_code.valid_days",
            f"must not be longer than retention.case_room_days ({config.retention.case_room_days})",
        )
    if not 1 <= code.max_wrong <= 10:
        raise ConfigError("return_code.max_wrong", "must be between 1 and 10")


def _validate_lifecycle(config: Config) -> None:
    for field in dataclasses.fields(config.lifecycle):
        if getattr(config.lifecycle, field.name) <= 0:
            raise ConfigError(f"lifecycle.{field.name}", "must be more than 0 minutes")
    if config.statistics.min_cell < 1:
        raise ConfigError("statistics.min_cell", "must be at least 1")


# The pool's upper bound: every ready session is a live account and room in Synapse.
MAX_READY_SESSIONS = 1000


def _validate_ready_sessions(config: Config) -> None:
    api = config.bots.api
    if not 0 <= api.ready_sessions <= MAX_READY_SESSIONS:
        raise ConfigError("bots.api.ready_sessions", f"must be between 0 (off) and {MAX_READY_SESSIONS}")
    if api.ready_session_max_age_minutes < 1:
        raise ConfigError("bots.api.ready_session_max_age_minutes", "must be at least 1 minute")
    if api.ready_sessions and not config.homeserver.visitor_appservice_token_file:
        raise ConfigError(
            "bots.api.ready_sessions",
            "ready sessions need homeserver.visitor_appservice_token_file; set it or set this to 0",
        )


def _validate_proxies(config: Config) -> None:
    for i, proxy in enumerate(config.bots.api.trusted_proxies):
        try:
            ipaddress.ip_network(proxy, strict=False)
        except ValueError:
            raise ConfigError(f"bots.api.trusted_proxies[{i}]", f"{proxy!r} is not an address or network") from None
    workers = config.synapse.workers
    if workers.enabled and config.synapse.database == "sqlite":
        raise ConfigError(
            "synapse.workers.enabled", "workers need PostgreSQL; set synapse.database to a postgresql:// URL"
        )
    if workers.layout == "loopback" and workers.base_port + 2 * 8 > 65535:
        raise ConfigError("synapse.workers.base_port", "too high: the workers need 16 ports from it")


OUTCOME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")


def _validate_queue(config: Config) -> None:
    queue = config.queue
    for name in ("urgent_reminder_minutes", "reminder_minutes", "default_handling_minutes"):
        if getattr(queue, name) <= 0:
            raise ConfigError(f"queue.{name}", "must be more than 0 minutes")
    for name in ("position_update_minutes", "erase_after_minutes"):
        if getattr(queue, name) < 0:
            raise ConfigError(f"queue.{name}", "cannot be negative")
    if queue.estimate_history < 1:
        raise ConfigError("queue.estimate_history", "must be at least 1")
    if not queue.outcomes:
        raise ConfigError("queue.outcomes", "needs at least one outcome")
    for i, outcome in enumerate(queue.outcomes):
        if not OUTCOME_RE.match(outcome):
            raise ConfigError(f"queue.outcomes[{i}]", f"{outcome!r} is not an id (a-z, 0-9 and -, at most 32)")
    if len(set(queue.outcomes)) != len(queue.outcomes):
        raise ConfigError("queue.outcomes", "every outcome must be listed once")
    _validate_shift(config)


def _validate_shift(config: Config) -> None:
    queue = config.queue
    if not 1 <= queue.max_chats_per_counsellor <= MAX_CAPACITY:
        raise ConfigError("queue.max_chats_per_counsellor", f"must be between 1 and {MAX_CAPACITY}")
    seen = {outcome: "queue.outcomes" for outcome in queue.outcomes}
    for name in ("topics", "referrals"):
        for i, value in enumerate(getattr(queue.wrap_up, name)):
            key = f"queue.wrap_up.{name}[{i}]"
            if not OUTCOME_RE.match(value):
                raise ConfigError(key, f"{value!r} is not an id (a-z, 0-9 and -, at most 32)")
            if value in seen:
                raise ConfigError(key, f"{value!r} is in {seen[value]} already; every word may be in one list only")
            seen[value] = f"queue.wrap_up.{name}"


MAX_CAPACITY = 10
MAX_FEEDBACK_QUESTIONS = 3
FEEDBACK_ANSWERS = (2, 5)
FEEDBACK_TEXT_MAX = 120


def _validate_feedback(config: Config) -> None:
    feedback = config.feedback
    if len(feedback.questions) > MAX_FEEDBACK_QUESTIONS:
        raise ConfigError("feedback.questions", f"at most {MAX_FEEDBACK_QUESTIONS} questions")
    if feedback.ticket_valid_hours <= 0:
        raise ConfigError("feedback.ticket_valid_hours", "must be more than 0 hours")
    ids: set[str] = set()
    for i, question in enumerate(feedback.questions):
        key = f"feedback.questions[{i}]"
        _feedback_item(question.id, (question.nl, question.en), key, ids)
        low, high = FEEDBACK_ANSWERS
        if not low <= len(question.answers) <= high:
            raise ConfigError(f"{key}.answers", f"needs {low} to {high} answers")
        answers: set[str] = set()
        for j, answer in enumerate(question.answers):
            _feedback_item(answer.id, (answer.nl, answer.en), f"{key}.answers[{j}]", answers)


def _feedback_item(ident: str, texts: tuple[str, ...], key: str, seen: set[str]) -> None:
    if not OUTCOME_RE.match(ident):
        raise ConfigError(f"{key}.id", f"{ident!r} is not an id (a-z, 0-9 and -, at most 32)")
    if ident in seen:
        raise ConfigError(f"{key}.id", f"{ident!r} is used twice")
    seen.add(ident)
    for language, value in zip(("nl", "en"), texts, strict=True):
        if not value.strip() or len(value) > FEEDBACK_TEXT_MAX:
            raise ConfigError(f"{key}.{language}", f"must be 1 to {FEEDBACK_TEXT_MAX} characters")


def _refuse_placeholders(config: Config) -> None:
    for key, value in _walk(config, ""):
        if isinstance(value, str) and any(m in value for m in PLACEHOLDER_MARKERS):
            raise ConfigError(key, f"placeholder {value!r} is not allowed in production; set a real value")
    if config.homeserver.server_name in ("localhost", "127.0.0.1"):
        raise ConfigError("homeserver.server_name", "'localhost' is a placeholder; set your public domain")
    if config.synapse.database == "sqlite":
        raise ConfigError("synapse.database", "production needs PostgreSQL; set a postgresql:// URL")
    if not config.bots.database.startswith("postgresql://"):
        raise ConfigError("bots.database", "production needs PostgreSQL; set a postgresql:// URL")


def secret_file_keys(config: Config) -> list[tuple[str, str]]:
    """All non-empty ``*_file`` settings as (dotted key, path)."""
    return [
        (key, value) for key, value in _walk(config, "") if key.endswith("_file") and isinstance(value, str) and value
    ]


# The ``*_file`` settings each process reads (SECURITY.md H.37: each container gets only the
# secrets it needs, so each is checked only for those). ``init`` makes the registration secret
# and the appservice token itself; the portal reads none.
SECRETS_OF: dict[str, tuple[str, ...]] = {
    "init": ("synapse.database_password_file",),
    "bots": (
        "homeserver.registration_shared_secret_file",
        "homeserver.visitor_appservice_token_file",
        "bots.database_password_file",
        "handover.partners_file",
    ),
    "portal": (),
    "staff": (
        "homeserver.registration_shared_secret_file",
        "bots.database_password_file",
        "handover.partners_file",
    ),
    "backup": ("synapse.database_password_file", "bots.database_password_file"),
}


def check_secret_files(config: Config, process: str | None = None) -> None:
    """Every secret file ``process`` reads (default: every configured one) must exist, be
    readable and not be empty."""
    wanted = None if process is None else set(SECRETS_OF[process])
    for key, value in secret_file_keys(config):
        if wanted is not None and key not in wanted:
            continue
        path = config.path(value)
        try:
            content = path.read_text("utf-8").strip()
        except OSError as exc:
            raise ConfigError(key, f"cannot read secret file {path}: {exc.strerror}") from None
        if not content:
            raise ConfigError(key, f"secret file {path} is empty")
        if config.mode == "production" and any(m in content for m in PLACEHOLDER_MARKERS):
            raise ConfigError(key, f"secret file {path} still holds a placeholder")


def read_secret(config: Config, relative: str) -> str:
    return config.path(relative).read_text("utf-8").strip()


__all__ = ["build_config", "check_secret_files", "load_config", "read_secret"]
