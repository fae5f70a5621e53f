"""Render Synapse's configuration from the layered files in synapse-config/.

Layers, in order: 00-defaults, the values computed from keerpunt.yaml, 10-keerpunt (what we
enforce), 20-<variant> (dev or production) and, for the test harness only, 30-test.
Secrets are generated once as files and referenced by ``*_path`` keys.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

import yaml

from bots.ids import VISITOR_PREFIX
from bots.texts import LANGUAGES, text
from keerpunt.base.config import Config, ConfigError, merge
from keerpunt.workers import (
    REPLICATION_SECRET,
    metrics_listener,
    render_workers,
    shared_layer,
    worker_config_path,
    worker_dir,
    worker_log_config_path,
    worker_log_path,
)

Variant = Literal["dev", "production"]

CONFIG_DIR = Path(
    os.environ.get("KEERPUNT_SYNAPSE_CONFIG_DIR", Path(__file__).resolve().parent.parent / "synapse-config")
)
LOG_FILTER_MODULE = "keerpunt_logfilter.py"
# The filters are Keerpunt's own (keerpunt/base/logfilter.py, standard library only), copied next
# to homeserver.yaml under the module name log.yaml uses.
LOG_FILTER_SOURCE = Path(__file__).with_name("base") / "logfilter.py"
# Keerpunt's Synapse module (modules: in 10-keerpunt.yaml); like the log filter, it lives next
# to homeserver.yaml on Synapse's PYTHONPATH.
SYNAPSE_MODULE = "keerpunt_synapse.py"
# The module's parts, copied next to it (keerpunt_synapse.py imports them).
SYNAPSE_MODULE_PARTS = ("keerpunt_synapse_guards.py", "keerpunt_synapse_forget.py")
# Its entry in `modules:` (10-keerpunt.yaml); the renderer fills in its config.
SYNAPSE_MODULE_CLASS = "keerpunt_synapse.KeerpuntModule"
# The application service for visitor accounts (rendered next to homeserver.yaml, mode 0600).
APPSERVICE_FILE = "appservice-visitors.yaml"
APPSERVICE_HS_TOKEN = "secrets/visitor_appservice_hs_token"  # noqa: S105 - a path, not a token


def synapse_dir(config: Config) -> Path:
    return config.path("synapse")


def _layer(name: str) -> dict[str, Any]:
    data = yaml.safe_load((CONFIG_DIR / name).read_text("utf-8"))
    return data or {}


def database_section(config: Config, sdir: Path) -> dict[str, Any]:
    url = config.synapse.database
    if url == "sqlite":
        return {"name": "sqlite3", "args": {"database": str(sdir / "homeserver.db")}}
    parts = urlsplit(url)
    if parts.scheme not in ("postgresql", "postgres"):
        raise ConfigError("synapse.database", "expected 'sqlite' or a postgresql:// URL")
    if parts.password:
        raise ConfigError("synapse.database", "no password in the URL; use synapse.database_password_file")
    args: dict[str, Any] = {
        "user": unquote(parts.username or "synapse"),
        "database": parts.path.lstrip("/") or "synapse",
        "host": parts.hostname or "localhost",
        "port": parts.port or 5432,
        "cp_min": 5,
        "cp_max": 10,
    }
    if config.synapse.database_password_file:
        args["passfile"] = str(sdir / "pgpass")
    return {"name": "psycopg2", "args": args}


def computed_layer(config: Config, variant: Variant, sdir: Path) -> dict[str, Any]:
    secrets_dir = sdir / "secrets"
    resources = ["client"]
    federating = bool(config.synapse.federation_allowlist)
    if federating:
        resources.append("federation")
    listener: dict[str, Any] = {
        "port": config.synapse.port,
        "bind_addresses": [config.synapse.bind_address],
        "type": "http",
        "tls": False,
        "x_forwarded": variant == "production",
        "resources": [{"names": resources, "compress": False}],
    }
    lifetime = f"{config.synapse.retention_max_lifetime_days}d"
    return {
        "server_name": config.homeserver.server_name,
        "public_baseurl": config.homeserver.public_url.rstrip("/") + "/",
        "pid_file": str(sdir / "homeserver.pid"),
        "listeners": [listener],
        "database": database_section(config, sdir),
        "log_config": str(sdir / "log.yaml"),
        "media_store_path": str(sdir / "media_store"),
        "signing_key_path": str(secrets_dir / "signing.key"),
        "registration_shared_secret_path": str(config.path(config.homeserver.registration_shared_secret_file)),
        "macaroon_secret_key_path": str(secrets_dir / "macaroon_secret_key"),
        "form_secret_path": str(secrets_dir / "form_secret"),
        "federation_domain_whitelist": list(config.synapse.federation_allowlist),
        # Keerpunt's application service for visitor accounts (see appservice_registration).
        "app_service_config_files": (
            [str(sdir / APPSERVICE_FILE)] if config.homeserver.visitor_appservice_token_file else []
        ),
        "user_ips_max_age": f"{config.synapse.user_ips_max_age_days}d",
        "retention": {
            "default_policy": {"min_lifetime": "1d", "max_lifetime": lifetime},
            "allowed_lifetime_max": lifetime,
        },
        **return_code_layer(config),
    }


def appservice_registration(config: Config, as_token: str, hs_token: str) -> dict[str, Any]:
    """Keerpunt's application service: the visitor namespace, exclusively, and nothing else.

    - ``users``: ``@visitor-…`` on this server only, ``exclusive``: nobody else (not even the
      shared-secret registration) can make an account there, and the bots' token can act for
      no user outside it. No ``aliases`` or ``rooms`` namespace.
    - ``sender_localpart`` lies inside the namespace, so Keerpunt's module limits the
      service's own user like any visitor (no rooms, invites, state or media).
    - ``url: null``: Synapse pushes no events to anyone; the token only registers visitors
      (``m.login.application_service``, no password, so no bcrypt) and signs a visitor's new
      device in.
    - ``rate_limited: false`` exempts only requests made with this token (the bots', which
      have their own per-client and global limits in the session API); a visitor's own
      device token is an ordinary user token and stays under every Synapse limit. With it on,
      each claim of a ready session would count against ``rc_login`` for the bots' one
      address (3 at once, then one per ~6 s by default): a campaign burst would stall there.
    """
    server = re.escape(config.homeserver.server_name)
    return {
        "id": "keerpunt-visitors",
        "url": None,
        "as_token": as_token,
        "hs_token": hs_token,
        "sender_localpart": f"{VISITOR_PREFIX}appservice",
        "namespaces": {"users": [{"exclusive": True, "regex": f"@{re.escape(VISITOR_PREFIX)}[a-z0-9]+:{server}"}]},
        "rate_limited": False,
        "receive_ephemeral": False,
    }


def _write_appservice(config: Config, sdir: Path) -> None:
    """Render the service's registration file (with its two tokens, so mode 0600)."""
    target = sdir / APPSERVICE_FILE
    target.unlink(missing_ok=True)
    token_file = config.homeserver.visitor_appservice_token_file
    if not token_file:
        return
    as_token = config.path(token_file).read_text("utf-8").strip()
    hs_token = (sdir / APPSERVICE_HS_TOKEN).read_text("utf-8").strip()
    _write_secret(target, yaml.safe_dump(appservice_registration(config, as_token, hs_token), sort_keys=True))


def return_code_layer(config: Config) -> dict[str, Any]:
    """MSC3814 (dehydrated devices) only when return codes are on (docs/return-code.md): a
    dormant visitor's dehydrated device is what lets them read, after returning, what the
    counsellor wrote while they were away. Still experimental in Synapse, so it stays off
    unless a deployment opts in, and a test renders it."""
    if not config.return_code.enabled:
        return {}
    return {"experimental_features": {"msc3814_enabled": True}}


def module_config() -> dict[str, Any]:
    """The config of Keerpunt's Synapse module: who counts as a visitor, which names they may have.

    The names are the neutral display names the bots give visitor accounts, one per language
    (``visitor.display_name`` in bots/texts): the module lets a visitor's own token set its
    display name to one of these and to nothing else, which is the one rename the bots make
    (a ready session's account taking the visitor's language, set through the application
    service acting as the visitor). Likewise the device names (``visitor.device_name``, which
    the widget's login uses too): a visitor's device gets one of these and no other.
    """
    names = sorted({text(language, "visitor.display_name") for language in LANGUAGES})
    devices = sorted({text(language, "visitor.device_name") for language in LANGUAGES})
    return {
        "visitor_localpart_prefix": VISITOR_PREFIX,
        "visitor_display_names": names,
        "visitor_device_names": devices,
    }


def _with_module_config(rendered: dict[str, Any]) -> dict[str, Any]:
    entries = [m for m in rendered.get("modules") or [] if m.get("module") == SYNAPSE_MODULE_CLASS]
    if len(entries) != 1:
        raise ConfigError("synapse-config", f"expected {SYNAPSE_MODULE_CLASS} once in modules: (10-keerpunt.yaml)")
    entries[0]["config"] = merge(entries[0].get("config") or {}, module_config())
    return rendered


def render_homeserver(config: Config, variant: Variant, *, test: bool = False) -> dict[str, Any]:
    sdir = synapse_dir(config)
    rendered = _layer("00-defaults.yaml")
    rendered = merge(rendered, computed_layer(config, variant, sdir))
    rendered = merge(rendered, shared_layer(config, sdir))
    rendered = merge(rendered, _layer("10-keerpunt.yaml"))
    rendered = merge(rendered, _layer(f"20-{variant}.yaml"))
    if test:
        rendered = merge(rendered, _layer("30-test.yaml"))
    if config.synapse.metrics_port:
        # Synapse's own metrics on the private network only (the proxy never forwards them).
        rendered["enable_metrics"] = True
        rendered["listeners"] = [*rendered["listeners"], metrics_listener(config, config.synapse.metrics_port)]
    return _with_module_config(rendered)


def render_log_config(config: Config, variant: Variant, log_file: Path | None = None) -> dict[str, Any]:
    """Synapse's log config; ``log_file`` for a worker's own file (default: homeserver.log)."""
    log = _layer("log.yaml")
    log["handlers"]["file"]["filename"] = str(log_file or synapse_dir(config) / "homeserver.log")
    if variant == "production":
        del log["handlers"]["file"]
        log["root"]["handlers"] = ["console"]
    else:
        del log["handlers"]["console"]
        log["root"]["handlers"] = ["file"]
    return log


def _write_secret(path: Path, value: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    data = value.encode() if isinstance(value, str) else value
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def ensure_secrets(config: Config) -> None:
    """Generate Synapse's secrets once; never overwrite an existing one. (The bots' own keys,
    for invites and return codes, are made by the bots, on their own volume.)"""
    sdir = synapse_dir(config)
    wanted: dict[Path, Any] = {
        config.path(config.homeserver.registration_shared_secret_file): lambda: secrets.token_urlsafe(48),
        sdir / "secrets" / "macaroon_secret_key": lambda: secrets.token_urlsafe(48),
        sdir / "secrets" / "form_secret": lambda: secrets.token_urlsafe(48),
        sdir / "secrets" / "signing.key": _signing_key,
    }
    if config.homeserver.visitor_appservice_token_file:
        wanted[config.path(config.homeserver.visitor_appservice_token_file)] = lambda: secrets.token_urlsafe(48)
        wanted[sdir / APPSERVICE_HS_TOKEN] = lambda: secrets.token_urlsafe(48)
    if config.synapse.workers.enabled:
        wanted[sdir / REPLICATION_SECRET] = lambda: secrets.token_urlsafe(48)
    for path, make in wanted.items():
        if not path.exists():
            _write_secret(path, make())


def _signing_key() -> str:
    from signedjson.key import encode_signing_key_base64, generate_signing_key

    key = generate_signing_key("a_" + secrets.token_hex(2))
    return f"ed25519 {key.version} {encode_signing_key_base64(key)}\n"


def _write_pgpass(config: Config, sdir: Path) -> None:
    if config.synapse.database == "sqlite" or not config.synapse.database_password_file:
        return
    password = config.path(config.synapse.database_password_file).read_text("utf-8").strip()
    escaped = password.replace("\\", "\\\\").replace(":", "\\:")
    target = sdir / "pgpass"
    target.unlink(missing_ok=True)
    _write_secret(target, f"*:*:*:*:{escaped}\n")


def init_synapse(config: Config, *, variant: Variant | None = None, test: bool = False) -> Path:
    """Render Synapse's config into <data_dir>/synapse and create missing secrets.

    Returns the path of homeserver.yaml. Safe to run again: secrets are kept, the
    configuration is rendered anew from the current keerpunt.yaml.
    """
    variant = variant or ("production" if config.mode == "production" else "dev")
    sdir = synapse_dir(config)
    sdir.mkdir(parents=True, exist_ok=True, mode=0o700)
    (sdir / "media_store").mkdir(exist_ok=True)
    ensure_secrets(config)
    _write_pgpass(config, sdir)
    homeserver = render_homeserver(config, variant, test=test)
    _write_appservice(config, sdir)
    (sdir / "homeserver.yaml").write_text(
        "# Rendered by `keerpunt init` from synapse-config/ and keerpunt.yaml. Do not edit:\n"
        "# change the layers or keerpunt.yaml and run `keerpunt init` again.\n"
        + yaml.safe_dump(homeserver, sort_keys=True),
        "utf-8",
    )
    (sdir / "log.yaml").write_text(yaml.safe_dump(render_log_config(config, variant), sort_keys=False), "utf-8")
    _write_workers(config, variant, sdir)
    shutil.copyfile(LOG_FILTER_SOURCE, sdir / LOG_FILTER_MODULE)
    for module in (SYNAPSE_MODULE, *SYNAPSE_MODULE_PARTS):
        shutil.copyfile(CONFIG_DIR / module, sdir / module)
    return sdir / "homeserver.yaml"


def _write_workers(config: Config, variant: Variant, sdir: Path) -> None:
    """Each worker's config and log config; stale ones go when workers are turned off."""
    wdir = worker_dir(sdir)
    if wdir.exists():
        for old in wdir.glob("*.yaml"):
            old.unlink()
    workers = render_workers(config, sdir)
    if not workers:
        return
    wdir.mkdir(exist_ok=True, mode=0o700)
    for name, rendered in workers.items():
        worker_config_path(sdir, name).write_text(
            "# Rendered by `keerpunt init` (keerpunt/workers.py); laid over homeserver.yaml.\n"
            + yaml.safe_dump(rendered, sort_keys=True),
            "utf-8",
        )
        log = render_log_config(config, variant, worker_log_path(sdir, name))
        worker_log_config_path(sdir, name).write_text(yaml.safe_dump(log, sort_keys=False), "utf-8")
