"""Every rendered Synapse variant keeps the hardened settings of SECURITY.md item 7."""

from __future__ import annotations

import json
import logging
import re
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from bots.texts import LANGUAGES, STAFF_LANGUAGES, text
from bots.visitors.accounts import visitor_localpart
from keerpunt.base.config import Config
from keerpunt.synapse_config import CONFIG_DIR, init_synapse
from tests.support.synapse import make_test_config

VARIANTS = [
    ("dev", False, {}),
    ("dev", True, {}),
    ("production", False, {}),
    ("production", False, {"synapse": {"federation_allowlist": ["partner.example.net"]}}),
]


def _days(value: str) -> float:
    match = re.fullmatch(r"(\d+)([smhdwy])", str(value))
    assert match, f"not a Synapse duration: {value!r}"
    unit = {"s": 1 / 86400, "m": 1 / 1440, "h": 1 / 24, "d": 1, "w": 7, "y": 365}[match[2]]
    return int(match[1]) * unit


def _render(tmp_path: Path, variant: str, test: bool, overrides: dict[str, Any]) -> tuple[Config, dict[str, Any]]:
    config = make_test_config(tmp_path, overrides)
    path = init_synapse(config, variant=variant, test=test)  # type: ignore[arg-type]
    return config, yaml.safe_load(path.read_text())


@pytest.fixture(params=VARIANTS, ids=["dev", "dev+test", "production", "production+partner"])
def rendered(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Config, dict[str, Any]]:
    variant, test, overrides = request.param
    return _render(tmp_path, variant, test, overrides)


def test_every_layer_file_parses() -> None:
    layers = sorted(CONFIG_DIR.glob("*.yaml"))
    assert {p.name for p in layers} >= {
        "00-defaults.yaml",
        "10-keerpunt.yaml",
        "20-dev.yaml",
        "20-production.yaml",
        "30-test.yaml",
        "log.yaml",
    }
    for path in layers:
        assert isinstance(yaml.safe_load(path.read_text()), dict), path


def test_registration_guests_presence_and_directory_are_off(rendered: tuple[Config, dict[str, Any]]) -> None:
    _, hs = rendered
    assert hs["enable_registration"] is False
    assert hs["allow_guest_access"] is False
    assert hs["presence"]["enabled"] is False
    assert hs["user_directory"]["enabled"] is False


def test_profiles_are_only_for_room_mates_with_auth(rendered: tuple[Config, dict[str, Any]]) -> None:
    _, hs = rendered
    assert hs["require_auth_for_profile_requests"] is True
    assert hs["limit_profile_requests_to_users_who_share_rooms"] is True
    assert hs["include_profile_data_on_invite"] is False


def test_push_previews_and_stats_leak_nothing(rendered: tuple[Config, dict[str, Any]]) -> None:
    _, hs = rendered
    assert hs["push"]["include_content"] is False
    assert hs["url_preview_enabled"] is False
    assert hs["report_stats"] is False
    assert hs["trusted_key_servers"] == []


def test_rooms_are_encrypted_by_default(rendered: tuple[Config, dict[str, Any]]) -> None:
    assert rendered[1]["encryption_enabled_by_default_for_room_type"] == "all"


def test_metadata_retention_is_short(rendered: tuple[Config, dict[str, Any]]) -> None:
    _, hs = rendered
    assert _days(hs["user_ips_max_age"]) <= 7
    assert _days(hs["redaction_retention_period"]) <= 1
    assert _days(hs["forgotten_room_retention_period"]) <= 1
    assert _days(hs["delete_stale_devices_after"]) <= 365


def test_retention_is_on_with_a_default_maximum(rendered: tuple[Config, dict[str, Any]]) -> None:
    config, hs = rendered
    assert hs["retention"]["enabled"] is True
    assert _days(hs["retention"]["default_policy"]["max_lifetime"]) == config.synapse.retention_max_lifetime_days
    assert hs["retention"]["purge_jobs"]


def test_federation_is_limited_to_the_partner_allowlist(rendered: tuple[Config, dict[str, Any]]) -> None:
    config, hs = rendered
    assert hs["federation_domain_whitelist"] == list(config.synapse.federation_allowlist)
    resources = {name for r in hs["listeners"][0]["resources"] for name in r["names"]}
    assert ("federation" in resources) == bool(config.synapse.federation_allowlist)
    assert hs["allow_public_rooms_over_federation"] is False


def test_secrets_are_files_not_inline(rendered: tuple[Config, dict[str, Any]]) -> None:
    _, hs = rendered
    for key in ("registration_shared_secret", "macaroon_secret_key", "form_secret"):
        assert key not in hs
        secret = Path(hs[f"{key}_path"])
        assert secret.is_file() and len(secret.read_text().strip()) >= 32
        assert secret.stat().st_mode & 0o077 == 0, f"{secret} is readable by others"
    assert Path(hs["signing_key_path"]).read_text().startswith("ed25519 ")


def test_rendering_again_keeps_the_secrets(tmp_path: Path) -> None:
    config = make_test_config(tmp_path)
    first = yaml.safe_load(init_synapse(config).read_text())
    before = Path(first["macaroon_secret_key_path"]).read_text()
    init_synapse(config)
    assert Path(first["macaroon_secret_key_path"]).read_text() == before


def test_only_the_test_variant_raises_rate_limits(tmp_path: Path) -> None:
    _, plain = _render(tmp_path / "a", "dev", False, {})
    _, test = _render(tmp_path / "b", "dev", True, {})
    assert "rc_message" not in plain
    assert test["rc_message"]["per_second"] >= 100


def test_only_the_test_variant_makes_password_hashing_cheap(tmp_path: Path) -> None:
    for variant in ("dev", "production"):
        _, plain = _render(tmp_path / variant, variant, False, {})
        assert "bcrypt_rounds" not in plain, "outside tests Synapse keeps its default (12 rounds)"
    _, test = _render(tmp_path / "test", "dev", True, {})
    assert test["bcrypt_rounds"] == 4


def test_production_listener_trusts_the_proxy_and_dev_does_not(tmp_path: Path) -> None:
    _, dev = _render(tmp_path / "a", "dev", False, {})
    _, prod = _render(tmp_path / "b", "production", False, {})
    assert dev["listeners"][0]["x_forwarded"] is False
    assert prod["listeners"][0]["x_forwarded"] is True
    assert dev["listeners"][0]["bind_addresses"] == ["127.0.0.1"]


def test_postgres_database_uses_a_passfile_not_an_inline_password(tmp_path: Path) -> None:
    (tmp_path / "pw").write_text("s3:cr\\et\n")
    _, hs = _render(
        tmp_path,
        "production",
        False,
        {
            "synapse": {
                "database": "postgresql://synapse@db:5432/synapse",
                "database_password_file": str(tmp_path / "pw"),
            }
        },
    )
    args = hs["database"]["args"]
    assert hs["database"]["name"] == "psycopg2"
    assert (args["host"], args["port"], args["user"], args["database"]) == ("db", 5432, "synapse", "synapse")
    assert "password" not in args
    assert Path(args["passfile"]).read_text() == "*:*:*:*:s3\\:cr\\\\et\n"


def test_log_config_parses_and_scrubs_every_handler(rendered: tuple[Config, dict[str, Any]]) -> None:
    _, hs = rendered
    log = yaml.safe_load(Path(hs["log_config"]).read_text())
    assert log["handlers"], "no handler"
    for handler in log["handlers"].values():
        assert handler["filters"][-2:] == ["scrub_access", "scrub_ids"]
    assert set(log["root"]["handlers"]) <= set(log["handlers"])


def test_access_log_filter_blanks_ip_and_user_agent(rendered: tuple[Config, dict[str, Any]]) -> None:
    _, hs = rendered
    sys.path.insert(0, str(Path(hs["log_config"]).parent))
    try:
        import keerpunt_logfilter
    finally:
        sys.path.pop(0)
    args = ("203.0.113.9", "8008", "@a:b", *([0.1] * 6), 0, 10, "200", "GET", "/x", "HTTP/1.1", "Sneaky/1.0", 0)
    record = logging.LogRecord("synapse.access.http.8008", logging.INFO, "f", 1, "%s " * 17, args, None)
    assert keerpunt_logfilter.ScrubAccessLog().filter(record)
    text = record.getMessage()
    assert "203.0.113.9" not in text and "Sneaky" not in text and "/x" in text
    other = logging.LogRecord(
        "synapse.access.http.8008", logging.DEBUG, "f", 1, "%s - Received", ("203.0.113.9",), None
    )
    assert not keerpunt_logfilter.ScrubAccessLog().filter(other)


def test_keerpunt_module_limits_visitors_with_the_bots_names(rendered: tuple[Config, dict[str, Any]]) -> None:
    _, hs = rendered
    (entry,) = [m for m in hs["modules"] if m["module"] == "keerpunt_synapse.KeerpuntModule"]
    config = entry["config"]
    # The module's idea of a visitor is the bots' (bots/visitors/accounts.py).
    assert visitor_localpart().startswith(config["visitor_localpart_prefix"])
    assert not f"staff-{visitor_localpart()}".startswith(config["visitor_localpart_prefix"])
    # The only display names a visitor's own token may set: those the bots give, per language.
    assert sorted(config["visitor_display_names"]) == sorted(
        {text(language, "visitor.display_name") for language in LANGUAGES}
    )
    # Visitors in the other languages get the English (neutral) name: a Polish one would tell
    # anyone who sees the room's state the visitor's language.
    assert len(config["visitor_display_names"]) == len(STAFF_LANGUAGES)
    # The device names a visitor's device may have: the bots' and the widget's login name.
    assert sorted(config["visitor_device_names"]) == sorted(
        {text(language, "visitor.device_name") for language in LANGUAGES}
    )
    locales = CONFIG_DIR.parent / "widget" / "src" / "app" / "locales"
    for path in sorted(p for p in locales.glob("*.json") if p.name != "reviewed.json"):
        widget_name = json.loads(path.read_text())["device_name"]
        assert widget_name in config["visitor_device_names"], path.name
    for name in ("keerpunt_synapse.py", "keerpunt_synapse_guards.py", "keerpunt_synapse_forget.py"):
        module_file = Path(hs["log_config"]).parent / name
        assert module_file.read_text() == (CONFIG_DIR / name).read_text()
    # Not Synapse's blanket switch: it would also stop staff and partners inviting anyone.
    assert hs.get("block_non_admin_invites", False) is False


def test_keerpunt_module_refuses_to_load_without_its_config() -> None:
    sys.path.insert(0, str(CONFIG_DIR))
    try:
        from keerpunt_synapse import KeerpuntModule
    finally:
        sys.path.pop(0)
    from synapse.config import ConfigError as SynapseConfigError

    good = {
        "visitor_localpart_prefix": "visitor-",
        "visitor_display_names": ["Bezoeker"],
        "visitor_device_names": ["Chat"],
    }
    assert KeerpuntModule.parse_config(good) == good
    for bad in (
        {},
        {**good, "visitor_localpart_prefix": ""},
        {**good, "visitor_display_names": []},
        {**good, "visitor_device_names": []},
        {**good, "visitor_display_names": [" "]},
    ):
        with pytest.raises(SynapseConfigError):
            KeerpuntModule.parse_config(bad)


def test_staff_password_policy_sits_where_synapse_reads_it(rendered: tuple[Config, dict[str, Any]]) -> None:
    _, hs = rendered
    password = hs["password_config"]
    assert password["enabled"] is True
    # Synapse reads password_config.policy only; a minimum_length beside it is silently ignored.
    assert set(password) == {"enabled", "policy"}, password
    policy = password["policy"]
    assert policy["enabled"] is True
    assert policy["minimum_length"] >= 12
    assert policy["require_digit"] is True
    assert policy["require_lowercase"] is True
    assert policy["require_uppercase"] is True


def test_synapse_reads_the_rendered_password_policy(rendered: tuple[Config, dict[str, Any]]) -> None:
    from synapse.config.auth import AuthConfig

    _, hs = rendered
    auth = AuthConfig(None)  # type: ignore[arg-type]
    auth.read_config(hs)
    assert auth.password_policy_enabled is True
    assert auth.password_policy["minimum_length"] >= 12


def test_synapse_metrics_are_off_by_default_and_private_when_on(tmp_path: Path) -> None:
    _, plain = _render(tmp_path / "plain", "production", False, {})
    assert plain["enable_metrics"] is False
    assert all(listener["type"] != "metrics" for listener in plain["listeners"])
    synapse = {"metrics_port": 9000, "bind_address": "10.0.0.2", "workers": {"enabled": True}}
    overrides = {"synapse": {**synapse, "database": "postgresql://synapse@db:5432/synapse"}}
    _, on = _render(tmp_path / "on", "production", False, overrides)
    assert on["enable_metrics"] is True
    (metrics,) = [listener for listener in on["listeners"] if listener["type"] == "metrics"]
    assert metrics == {"port": 9000, "type": "metrics", "bind_addresses": ["10.0.0.2"]}
    ports = {9000}
    for worker_file in (tmp_path / "on" / "synapse" / "workers").glob("*.yaml"):
        if worker_file.name.endswith(".log.yaml"):
            continue
        worker = yaml.safe_load(worker_file.read_text())
        if "worker_listeners" not in worker:
            continue
        (own,) = [listener for listener in worker["worker_listeners"] if listener["type"] == "metrics"]
        assert own["bind_addresses"] == ["10.0.0.2"] and own["port"] not in ports, worker_file.name
        ports.add(own["port"])
    assert len(ports) > 1, "the workers have metrics listeners of their own"


def test_the_visitor_appservice_is_exclusive_to_the_visitor_namespace_and_nothing_else(
    rendered: tuple[Config, dict[str, Any]],
) -> None:
    config, homeserver = rendered
    (path,) = homeserver["app_service_config_files"]
    assert Path(path).stat().st_mode & 0o077 == 0, "the registration holds tokens: owner only"
    service = yaml.safe_load(Path(path).read_text())
    token = config.path(config.homeserver.visitor_appservice_token_file)
    assert service["as_token"] == token.read_text().strip() and token.stat().st_mode & 0o077 == 0
    assert service["hs_token"] != service["as_token"]
    assert service["url"] is None, "Synapse pushes nothing to anyone"
    assert set(service["namespaces"]) == {"users"}, "no room or alias namespace"
    (users,) = service["namespaces"]["users"]
    assert users["exclusive"] is True
    server = config.homeserver.server_name
    pattern = re.compile(users["regex"])
    assert pattern.fullmatch(f"@{visitor_localpart()}:{server}")
    assert pattern.fullmatch(f"@{service['sender_localpart']}:{server}"), "its own user is a visitor too"
    for other in (f"@keerpunt:{server}", f"@staff-visitor-1:{server}", f"@{visitor_localpart()}:evil.example"):
        assert not pattern.fullmatch(other)
    assert service["rate_limited"] is False  # only the token's own requests; see appservice_registration


def test_without_a_token_file_no_appservice_is_rendered(tmp_path: Path) -> None:
    config = make_test_config(
        tmp_path, {"homeserver": {"visitor_appservice_token_file": ""}, "bots": {"api": {"ready_sessions": 0}}}
    )
    homeserver = yaml.safe_load(init_synapse(config).read_text())
    assert homeserver["app_service_config_files"] == []


def test_dehydrated_devices_are_off_unless_return_codes_are_on(tmp_path: Path) -> None:
    _, hs = _render(tmp_path, "production", False, {})
    assert "msc3814_enabled" not in (hs.get("experimental_features") or {})


def test_return_codes_switch_on_synapse_dehydrated_devices(tmp_path: Path) -> None:
    from synapse.config.experimental import ExperimentalConfig

    _, hs = _render(tmp_path, "production", False, {"return_code": {"enabled": True}})
    assert hs["experimental_features"]["msc3814_enabled"] is True
    experimental = ExperimentalConfig(None)  # type: ignore[arg-type]
    experimental.read_config(hs, allow_secrets_in_config=False)
    assert experimental.msc3814_enabled is True


class _Guarded:
    """Any handler or store of a fake Synapse process: every guarded method exists."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)

        async def method(*args: Any, **kwargs: Any) -> None:
            return None

        setattr(self, name, method)
        return method


class _WorkerStore(_Guarded):
    """A generic worker's store: Synapse writes event reports on the main process only."""

    def __getattr__(self, name: str) -> Any:
        if name == "add_event_report":
            raise AttributeError(name)
        return super().__getattr__(name)


def _process(worker_app: str | None, store: Any) -> Any:
    from types import SimpleNamespace

    hs = SimpleNamespace(config=SimpleNamespace(worker=SimpleNamespace(worker_app=worker_app)))
    for getter in ("pusherpool", "reports_handler", "device_handler", "device_message_handler",
                   "account_data_handler", "e2e_room_keys_handler"):  # fmt: skip
        handler = _Guarded()
        setattr(hs, f"get_{getter}", lambda handler=handler: handler)
    hs.get_datastores = lambda: SimpleNamespace(main=store)
    return SimpleNamespace(_hs=hs)


def test_visitor_guards_load_on_every_worker_and_refuse_a_main_process_without_a_guarded_method() -> None:
    sys.path.insert(0, str(CONFIG_DIR))
    try:
        from keerpunt_synapse_guards import VisitorGuards
    finally:
        sys.path.pop(0)
    from synapse.config import ConfigError as SynapseConfigError

    def install(worker_app: str | None, store: Any) -> None:
        VisitorGuards(_process(worker_app, store), lambda _: False, ["Chat"]).install()

    install("synapse.app.generic_worker", _WorkerStore())  # the worker's store has no add_event_report
    worker_with_reports = _Guarded()
    install("synapse.app.generic_worker", worker_with_reports)
    assert worker_with_reports.add_event_report.__name__ == "guarded"
    install(None, _Guarded())
    with pytest.raises(SynapseConfigError):
        install(None, _WorkerStore())  # a Synapse whose main process lost the method: refuse
