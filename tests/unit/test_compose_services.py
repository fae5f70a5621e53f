"""What each compose.yaml service may read and write (SECURITY.md H.36, H.37; review 3 N4, M5).

Every path a Keerpunt process reads or creates, resolved from deploy/keerpunt.yaml, lies on a
mount of its service (a volume, writable where the process writes, or a secret); each service
gets exactly the secrets its process checks; the bots see none of Synapse's own secrets; every
service has a read-only root and a log size limit.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

import pytest
import yaml

from keerpunt.base.config import Config
from keerpunt.base.config.loader import SECRETS_OF, secret_file_keys
from keerpunt.synapse_config import APPSERVICE_HS_TOKEN, synapse_dir
from tests.support.proxy import production_config
from tests.unit.test_compose import REPO, _compose, _default

# Keerpunt's services and the process (keerpunt.base.config.SECRETS_OF) each runs.
PROCESS_OF = {"init": "init", "bots": "bots", "portal": "portal", "backup": "backup", "restore": "backup"}
# Every secret, by the services that get it (and no other).
SECRETS = {
    "postgres_password": {"postgres"},
    "synapse_db_password": {"postgres", "init", "backup", "restore"},
    "bots_db_password": {"postgres", "bots", "backup", "restore"},
    "backup_signing_key": {"backup"},
}


def _mounts(service: dict[str, Any]) -> dict[PurePosixPath, bool]:
    """Container path -> writable, for every volume, bind mount, tmpfs and secret."""
    mounts = {}
    for volume in service.get("volumes", []):
        parts = _default(volume).split(":")
        target, mode = (parts[1], parts[2]) if len(parts) == 3 else (parts[1], "rw")
        mounts[PurePosixPath(target)] = mode == "rw"
    for tmpfs in service.get("tmpfs", []):
        mounts[PurePosixPath(tmpfs)] = True
    for secret in service.get("secrets", []):
        mounts[PurePosixPath("/run/secrets") / secret] = False
    return mounts


def _mount_of(path: PurePosixPath, mounts: dict[PurePosixPath, bool]) -> tuple[PurePosixPath, bool] | None:
    found = [(m, rw) for m, rw in mounts.items() if path == m or m in path.parents]
    return max(found, key=lambda item: len(item[0].parts)) if found else None


def _config() -> Config:
    return production_config(workers=True)


def _p(config: Config, relative: str) -> PurePosixPath:
    return PurePosixPath(str(config.path(relative)))


def _reads_and_writes(config: Config, process: str) -> tuple[set[PurePosixPath], set[PurePosixPath]]:
    """What each process reads and what it creates or changes (from the code it runs)."""
    sdir = PurePosixPath(str(synapse_dir(config)))
    shared = {
        _p(config, config.homeserver.registration_shared_secret_file),
        _p(config, config.homeserver.visitor_appservice_token_file),
    }
    bots_keys = {
        _p(config, config.bots.store_dir) / "session.json",
        _p(config, config.outreach.invite_key_path),
        _p(config, config.return_code.key_path),
    }
    secret_files = {_p(config, value) for key, value in secret_file_keys(config) if key in SECRETS_OF[process]}
    if process == "init":  # keerpunt init: Synapse's config and secrets, the shared ones
        return secret_files, {sdir / "homeserver.yaml", sdir / "secrets" / "signing.key", sdir / "pgpass", *shared}
    if process == "bots":
        return secret_files | shared, bots_keys
    if process == "backup":  # backup reads it all, restore writes it back (the same set)
        return secret_files, {sdir / "secrets" / "signing.key", *shared, *bots_keys}
    return set(), set()


@pytest.mark.parametrize("service", sorted(PROCESS_OF))
def test_every_path_a_process_uses_lies_on_a_mount_of_its_service(service: str) -> None:
    config = _config()
    assert config.data_dir == "/data"
    spec = _compose()["services"][service]
    mounts = _mounts(spec)
    reads, writes = _reads_and_writes(config, PROCESS_OF[service])
    if service == "backup":
        reads, writes = reads | writes, {PurePosixPath("/backups/2026-01-01T000000Z/manifest.json")}
    for path in reads | writes:
        found = _mount_of(path, mounts)
        assert found is not None, f"{service}: {path} is on no volume (the root is read-only)"
        if path in writes:
            assert found[1], f"{service}: {path} is on a read-only mount {found[0]}"
    assert spec["read_only"] is True


def test_each_service_gets_exactly_the_secrets_its_process_checks() -> None:
    services = _compose()["services"]
    for secret, holders in SECRETS.items():
        assert {n for n, s in services.items() if secret in s.get("secrets", [])} == holders, secret
    config = _config()
    for service, process in PROCESS_OF.items():
        checked = {_p(config, v) for k, v in secret_file_keys(config) if k in SECRETS_OF[process]}
        given = {PurePosixPath("/run/secrets") / s for s in services[service].get("secrets", [])}
        # Files on /run/secrets are compose secrets; the rest come from volumes (init makes them).
        assert {p for p in checked if p.parent == PurePosixPath("/run/secrets")} <= given, service
    assert services["backup"]["environment"]["KEERPUNT_BACKUP_SIGNING_KEY"] == "/run/secrets/backup_signing_key"


def test_the_bots_can_read_none_of_synapses_own_secrets() -> None:
    """Review 2, M5: not the signing key, macaroon or form secret, hs_token or pgpass."""
    config = _config()
    sdir = PurePosixPath(str(synapse_dir(config)))
    mounts = _mounts(_compose()["services"]["bots"])
    own = [sdir / "secrets" / n for n in ("signing.key", "macaroon_secret_key", "form_secret")]
    for path in [*own, sdir / APPSERVICE_HS_TOKEN, sdir / "pgpass", sdir / "homeserver.yaml"]:
        assert _mount_of(path, mounts) is None, path
    assert "synapse_db_password" not in _compose()["services"]["bots"].get("secrets", [])


def test_every_secret_file_setting_is_read_by_some_process() -> None:
    keys = {key for key, _ in secret_file_keys(_config())}
    assert keys <= {k for process in SECRETS_OF.values() for k in process}
    every = yaml.safe_load((REPO / "keerpunt" / "base" / "config" / "example.yaml").read_text())
    assert "database_password_file" in every["synapse"] and "database_password_file" in every["bots"]


def test_every_service_has_a_log_limit_and_all_but_element_a_read_only_root() -> None:
    for name, service in _compose()["services"].items():
        logging = service.get("logging", {})
        assert logging.get("driver") == "json-file", name
        assert logging["options"]["max-size"] and logging["options"]["max-file"], name
        if name != "element":  # upstream nginx; not run here (no image), so left as it ships
            assert service.get("read_only") is True, name


class _ComposeLoader(yaml.SafeLoader):
    """YAML with compose's merge tags: ``!reset`` is None, ``!override`` its value."""


_ComposeLoader.add_constructor("!reset", lambda loader, node: None)
_ComposeLoader.add_constructor(
    "!override",
    lambda loader, node: (
        loader.construct_sequence(node) if isinstance(node, yaml.SequenceNode) else loader.construct_mapping(node)
    ),
)


def test_the_local_override_swaps_only_images_and_what_cannot_run_here() -> None:
    local = yaml.load((REPO / "compose.local.yaml").read_text(), Loader=_ComposeLoader)  # noqa: S506 - safe loader
    allowed = {"image", "entrypoint", "command", "ports", "depends_on"}
    for name, service in local["services"].items():
        if service is None:  # element: !reset
            assert name == "element"
            continue
        assert set(service) <= allowed, f"{name}: {set(service) - allowed}"
    assert "127.0.0.1:" in str(local["services"]["proxy"]["ports"])
