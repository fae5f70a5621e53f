"""The example config documents every key and matches the dataclasses; errors name the key."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import replace
from pathlib import Path
from typing import Any, get_type_hints

import pytest
import yaml

from keerpunt.base.config import EXIT_CONFIG, Config, ConfigError, check_secret_files, example_text, load_config
from keerpunt.base.config.loader import build_config
from keerpunt.cli import main

KEY_LINE = re.compile(r"^\s*(?P<key>[A-Za-z_][A-Za-z0-9_]*):(\s|$)")


def test_every_key_of_the_example_has_a_comment_directly_above_it() -> None:
    lines = example_text().splitlines()
    missing = []
    for number, line in enumerate(lines):
        if not KEY_LINE.match(line):
            continue
        previous = lines[number - 1].strip() if number else ""
        if not previous.startswith("#"):
            missing.append(f"line {number + 1}: {line.strip()}")
    assert missing == []


def _fields(cls: type, prefix: str = "") -> set[str]:
    out: set[str] = set()
    hints = get_type_hints(cls)
    for field in dataclasses.fields(cls):
        key = f"{prefix}{field.metadata.get('key', field.name)}"
        out.add(key)
        if dataclasses.is_dataclass(hints[field.name]):
            out |= _fields(hints[field.name], f"{key}.")
    return out


def _keys(data: dict[str, Any], prefix: str = "") -> set[str]:
    out: set[str] = set()
    for name, value in data.items():
        key = f"{prefix}{name}"
        out.add(key)
        if isinstance(value, dict):
            out |= _keys(value, f"{key}.")
    return out


def test_example_and_dataclasses_have_the_same_keys() -> None:
    assert _keys(yaml.safe_load(example_text())) == _fields(Config)


def test_example_loads_as_a_dev_config() -> None:
    config = load_config()
    assert config.mode == "dev"
    assert config.homeserver.server_name == "localhost"
    assert isinstance(config.bots.api.allowed_origins, tuple)


def _example() -> dict[str, Any]:
    return yaml.safe_load(example_text())


def _error(data: dict[str, Any]) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        build_config(data)
    return info.value


def test_wrong_type_names_the_key() -> None:
    data = _example()
    data["bots"]["api"]["port"] = "eighty"
    err = _error(data)
    assert err.key == "bots.api.port"
    assert "bots.api.port" in str(err) and "whole number" in str(err)


def test_wrong_type_in_a_list_names_the_index() -> None:
    data = _example()
    data["bots"]["api"]["allowed_origins"] = ["http://a", 5]
    assert _error(data).key == "bots.api.allowed_origins[1]"


def test_unknown_key_names_the_key() -> None:
    data = _example()
    data["portal"]["colour"] = "blue"
    err = _error(data)
    assert err.key == "portal.colour"
    assert "unknown key" in str(err)


def test_unknown_enumeration_value_names_the_key() -> None:
    data = _example()
    data["languages"]["default"] = "xx"
    err = _error(data)
    assert err.key == "languages.default" and "'xx'" in str(err)


def test_inline_secret_is_refused_and_names_the_key() -> None:
    data = _example()
    data["homeserver"]["registration_shared_secret"] = "hunter2"
    err = _error(data)
    assert err.key == "homeserver.registration_shared_secret"
    assert "registration_shared_secret_file" in str(err)


def test_missing_secret_file_names_the_key(tmp_path: Path) -> None:
    config = load_config(data_dir=str(tmp_path))
    with pytest.raises(ConfigError) as info:
        check_secret_files(config)
    assert info.value.key == "homeserver.registration_shared_secret_file"
    assert "cannot read secret file" in str(info.value)


def test_each_process_checks_only_the_secret_files_it_reads(tmp_path: Path) -> None:
    """Review 3, N4: the portal has no secret; the bots have not Synapse's database password."""
    synapse_pw, bots_pw = tmp_path / "synapse_pw", tmp_path / "bots_pw"
    config = load_config(data_dir=str(tmp_path))
    config = replace(
        config,
        synapse=replace(config.synapse, database_password_file=str(synapse_pw)),
        bots=replace(config.bots, database_password_file=str(bots_pw)),
    )
    check_secret_files(config, "portal")  # nothing at all exists, and the portal needs none of it
    for name in ("registration_shared_secret_file", "visitor_appservice_token_file"):
        path = config.path(getattr(config.homeserver, name))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("s3cret\n")
    with pytest.raises(ConfigError) as info:
        check_secret_files(config, "bots")
    assert info.value.key == "bots.database_password_file"
    bots_pw.write_text("pw\n")
    check_secret_files(config, "bots")  # without Synapse's database password
    with pytest.raises(ConfigError) as info:
        check_secret_files(config, "init")
    assert info.value.key == "synapse.database_password_file"
    with pytest.raises(ConfigError):
        check_secret_files(config)  # every one, as `keerpunt dev` checks


def test_empty_secret_file_is_refused(tmp_path: Path) -> None:
    config = load_config(data_dir=str(tmp_path))
    secret = config.path(config.homeserver.registration_shared_secret_file)
    secret.parent.mkdir(parents=True)
    secret.write_text("\n")
    with pytest.raises(ConfigError, match="is empty") as info:
        check_secret_files(config)
    assert info.value.key == "homeserver.registration_shared_secret_file"


def _production(**overrides: Any) -> dict[str, Any]:
    data = _example()
    data["mode"] = "production"
    data["homeserver"]["server_name"] = "chat.keerpunt.test"
    data["synapse"]["database"] = "postgresql://synapse@db/synapse"
    data["bots"]["database"] = "postgresql://keerpunt@db/keerpunt"
    data["portal"]["contact"] = {"email": "info@keerpunt.test", "privacy_email": "fg@keerpunt.test"}
    for dotted, value in overrides.items():
        node = data
        *path, last = dotted.split(".")
        for part in path:
            node = node[part]
        node[last] = value
    return data


def test_a_complete_production_config_loads() -> None:
    assert build_config(_production()).mode == "production"


def test_placeholder_in_production_names_the_key() -> None:
    err = _error(_production(**{"portal.contact.email": "info@example.org"}))
    assert err.key == "portal.contact.email"
    assert "placeholder" in str(err)


def test_localhost_server_name_is_a_placeholder_in_production() -> None:
    assert _error(_production(**{"homeserver.server_name": "localhost"})).key == "homeserver.server_name"


def test_sqlite_is_refused_in_production() -> None:
    assert _error(_production(**{"synapse.database": "sqlite"})).key == "synapse.database"


def test_placeholders_are_allowed_in_dev() -> None:
    data = _example()
    assert "example.org" in data["portal"]["contact"]["email"]
    assert build_config(data).mode == "dev"


def test_user_file_is_laid_over_the_example(tmp_path: Path) -> None:
    path = tmp_path / "keerpunt.yaml"
    path.write_text("portal:\n  port: 9999\n")
    config = load_config(path)
    assert config.portal.port == 9999
    assert config.portal.host == "127.0.0.1"


def test_invalid_yaml_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "keerpunt.yaml"
    path.write_text("portal: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(path)


def test_cli_exits_with_the_config_error_code_and_names_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "keerpunt.yaml"
    path.write_text("bots:\n  rate_limit:\n    global_per_minute: many\n")
    code = main(["--config", str(path), "--data-dir", str(tmp_path), "init"])
    assert code == EXIT_CONFIG
    assert "bots.rate_limit.global_per_minute" in capsys.readouterr().err


def test_return_codes_are_off_by_default() -> None:
    config = load_config()
    assert config.return_code.enabled is False
    assert config.return_code.valid_days <= config.retention.case_room_days
    assert config.return_code.max_wrong == 3


def test_a_return_code_never_outlives_the_room_retention() -> None:
    data = _example()
    data["retention"]["case_room_days"] = 10
    data["return_code"]["valid_days"] = 11
    error = _error(data)
    assert error.key == "return_code.valid_days"
    assert "retention.case_room_days" in str(error)


def test_max_wrong_second_words_must_be_sensible() -> None:
    data = _example()
    data["return_code"]["max_wrong"] = 0
    assert _error(data).key == "return_code.max_wrong"


def test_write_later_is_off_by_default_and_needs_the_return_code() -> None:
    config = load_config()
    assert config.async_.enabled is False
    assert config.async_.offer_after_minutes == 15
    data = _example()
    data["async"]["enabled"] = True
    error = _error(data)
    assert error.key == "async.enabled"
    assert "return_code.enabled" in str(error)
    data["return_code"]["enabled"] = True
    assert build_config(data).async_.enabled is True


@pytest.mark.parametrize(
    ("key", "value"),
    [("offer_after_minutes", 0), ("answer_within_hours", 0), ("answer_within_hours", 169), ("keep_days", 0)],
)
def test_write_later_limits_name_the_key(key: str, value: int) -> None:
    data = _example()
    data["async"][key] = value
    assert _error(data).key == f"async.{key}"


def test_an_unanswered_message_never_outlives_its_code() -> None:
    data = _example()
    data["return_code"]["valid_days"] = 5
    data["async"]["keep_days"] = 6
    error = _error(data)
    assert error.key == "async.keep_days"
    assert "return_code.valid_days" in str(error)


def test_the_async_key_is_read_under_its_yaml_name() -> None:
    data = _example()
    data["async"] = {**data["async"], "async_": 1}
    assert _error(data).key == "async.async_"
    data = _example()
    data["async_"] = data.pop("async")
    assert _error(data).key == "async_"


def test_make_dev_turns_the_return_code_and_write_later_on() -> None:
    root = Path(__file__).resolve().parents[2]
    config = load_config(root / "dev.yaml")
    assert config.mode == "dev"
    assert config.return_code.enabled is True
    assert config.async_.enabled is True
    assert "--config dev.yaml" in (root / "Makefile").read_text("utf-8")
