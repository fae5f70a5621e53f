"""`keerpunt backup DIR` and `keerpunt restore DIR`: both databases and the key material, encrypted and signed.

A backup is a folder with, each encrypted with age (``pyrage``, X25519) to the operator's
recipient key:

- ``synapse.dump.age``: ``pg_dump --format=custom`` of Synapse's database, without the rows of
  ``e2e_one_time_keys_json``: a one-time key must be used once, and a restored one could be
  handed out a second time (SECURITY.md E.25). Clients upload new ones when the count is low.
- ``bots.dump.age``: the same of the bots' database.
- ``keys.tar.age``: the key material that must match the databases (``KEY_FILES``): the bots'
  store (session and nio's crypto store, copied with SQLite's online backup so a running bot is
  no problem), Synapse's secrets (signing key, macaroon and form secrets, the appservice's
  hs_token), the registration shared secret, the visitor appservice's token and the return-code
  key (without it every dormant visitor's code would fail after a restore). Not the outreach
  invite key: invites live for days, and after a restore the bots make a new key (open invites
  then no longer work; workers hand out new ones).
- ``manifest.json`` (in clear): when, which files, their SHA-256, the recipient, signed with
  this platform's backup signing key (ed25519, signedjson). Nothing about anyone.

``keerpunt backup-key FILE`` makes both keys once, on a machine apart: the age identity that
decrypts, with the signer's public key in a comment, is kept apart from the backups and the
servers; the signing key goes to the server (compose.yaml: the ``backup_signing_key`` secret).
A restore accepts only a set whose manifest that signer signed and whose files match it
(SECURITY.md H.37): whoever can write to the backup store, and knows the public recipient,
still cannot make a set this platform restores. PostgreSQL only: the embedded SQLite default is
for development.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyrage
from signedjson.key import (
    decode_signing_key_base64,
    decode_verify_key_base64,
    encode_signing_key_base64,
    encode_verify_key_base64,
    generate_signing_key,
    get_verify_key,
)
from signedjson.sign import SignatureVerifyException, sign_json, verify_signed_json

from keerpunt.base.config import Config
from keerpunt.synapse_config import synapse_dir

# Rows never restored: one-time keys are single use (their table is kept, empty).
SYNAPSE_SKIP_DATA = ("e2e_one_time_keys_json",)
DUMPS = ("synapse", "bots")
KEYS = "keys.tar"
# The name under which the manifest is signed, and the identity file's comment naming the signer.
SIGNER = "keerpunt-backup"
SIGNER_LINE = "# keerpunt backup signer: "


class BackupError(Exception):
    """A user-facing error of backup or restore."""


@dataclass(frozen=True)
class Database:
    url: str
    password_file: str


def _databases(config: Config) -> dict[str, Database]:
    found = {
        "synapse": Database(config.synapse.database, config.synapse.database_password_file),
        "bots": Database(config.bots.database, config.bots.database_password_file),
    }
    for name, db in found.items():
        if not db.url.startswith(("postgresql://", "postgres://")):
            raise BackupError(f"{name}'s database is not PostgreSQL ({name}.database); backups are for production")
    return found


def _env(config: Config, db: Database) -> dict[str, str]:
    env = dict(os.environ)
    if db.password_file:
        env["PGPASSWORD"] = config.path(db.password_file).read_text("utf-8").strip()
    return env


def _run(argv: list[str], env: dict[str, str]) -> None:
    try:
        done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise BackupError(f"{argv[0]} is not installed (Debian: postgresql-client)") from None
    if done.returncode != 0:
        raise BackupError(f"{argv[0]} failed: {done.stderr.strip()[-500:]}")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@contextmanager
def _private_tmp(near: Path) -> Iterator[Path]:
    """A 0700 scratch folder beside ``near`` for clear data; removed however it ends."""
    tmp = Path(tempfile.mkdtemp(prefix=".keerpunt-", dir=near))
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _key_files(config: Config) -> dict[str, Path]:
    """Key material by its name in the archive (docs/operations.md lists the same)."""
    files = {
        "synapse-secrets": synapse_dir(config) / "secrets",
        "registration_shared_secret": config.path(config.homeserver.registration_shared_secret_file),
        "return_code_key": config.path(config.return_code.key_path),
        "bots-store": config.path(config.bots.store_dir),
    }
    if config.homeserver.visitor_appservice_token_file:
        files["visitor_appservice_token"] = config.path(config.homeserver.visitor_appservice_token_file)
    return files


def _copy_store(source: Path, target: Path) -> None:
    """The bots' store: SQLite files through the online backup API, the rest as files."""
    for path in sorted(source.rglob("*")):
        dest = target / path.relative_to(source)
        if path.is_dir():
            dest.mkdir(parents=True, exist_ok=True)
        elif path.suffix in (".db", ".sqlite") or path.name.endswith(".db"):
            dest.parent.mkdir(parents=True, exist_ok=True)
            with sqlite3.connect(path) as src, sqlite3.connect(dest) as out:
                src.backup(out)
        elif not path.name.endswith(("-wal", "-shm", "-journal")):
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, dest)


def signing_key_path(identity: Path) -> Path:
    """Where ``backup-key`` puts the signing key: beside the identity, for the operator to move."""
    return identity.with_name(identity.name + ".signing-key")


def _create(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)


def new_identity(path: Path) -> str:
    """This platform's backup keys, once: the age identity with the signer's public key at
    ``path`` and the signing key at :func:`signing_key_path` (both 0600, never overwritten).
    Returns the recipient."""
    signing = signing_key_path(path)
    if path.exists() or signing.exists():
        raise FileExistsError(path)
    identity = pyrage.x25519.Identity.generate()
    key = generate_signing_key("1")
    verify = f"ed25519 {key.version} {encode_verify_key_base64(get_verify_key(key))}"
    _create(signing, f"ed25519 {key.version} {encode_signing_key_base64(key)}\n")
    _create(
        path,
        f"# keerpunt backup identity; recipient: {identity.to_public()}\n{SIGNER_LINE}{verify}\n{identity}\n",
    )
    return str(identity.to_public())


def _signing_key(path: Path) -> Any:
    try:
        algorithm, version, encoded = path.read_text("utf-8").split()
        if algorithm != "ed25519":
            raise ValueError(algorithm)
        return decode_signing_key_base64(algorithm, version, encoded)
    except OSError as exc:
        raise BackupError(f"cannot read the backup signing key {path}: {exc.strerror}") from None
    except ValueError:
        raise BackupError(f"{path} is not a backup signing key from `keerpunt backup-key`") from None


def _verify_key(identity_file: Path) -> Any:
    for line in identity_file.read_text("utf-8").splitlines():
        if line.startswith(SIGNER_LINE):
            try:
                algorithm, version, encoded = line.removeprefix(SIGNER_LINE).split()
                key = decode_verify_key_base64(algorithm, version, encoded)
            except ValueError:
                break
            key.version = version
            return key
    raise BackupError(f"{identity_file} names no backup signer: make the keys with `keerpunt backup-key`")


def backup(config: Config, target: Path, recipient: str, signing_key: Path) -> dict[str, object]:
    """Make a backup in the empty (or new) folder ``target``; returns the signed manifest."""
    try:
        to = pyrage.x25519.Recipient.from_str(recipient.strip())
    except Exception:
        raise BackupError("the recipient is not an age public key (age1…)") from None
    key = _signing_key(signing_key)
    databases = _databases(config)
    target.mkdir(parents=True, exist_ok=True, mode=0o700)
    if any(target.iterdir()):
        raise BackupError(f"{target} is not empty")
    files: dict[str, str] = {}
    with _private_tmp(target) as tmp:
        for name in DUMPS:
            db = databases[name]
            dump = tmp / f"{name}.dump"
            skip = [f"--exclude-table-data={t}" for t in SYNAPSE_SKIP_DATA] if name == "synapse" else []
            _run(["pg_dump", "--format=custom", "--no-owner", f"--file={dump}", *skip, db.url], _env(config, db))
            out = target / f"{name}.dump.age"
            pyrage.encrypt_file(str(dump), str(out), [to])
            files[out.name] = _sha256(out)
        staged = tmp / "keys"
        staged.mkdir()
        files_in_keys = []
        for name, path in _key_files(config).items():
            if not path.exists():
                continue
            files_in_keys.append(name)
            if name == "bots-store":
                _copy_store(path, staged / name)
            elif path.is_dir():
                shutil.copytree(path, staged / name)
            else:
                shutil.copy2(path, staged / name)
        archive = tmp / KEYS
        with tarfile.open(archive, "w") as tar:
            tar.add(staged, arcname="keys")
        out = target / f"{KEYS}.age"
        pyrage.encrypt_file(str(archive), str(out), [to])
        files[out.name] = _sha256(out)
    manifest: dict[str, object] = {
        "format": 1,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "recipient": str(to),
        "files": files,
        "skipped_table_data": list(SYNAPSE_SKIP_DATA),
        "key_files": sorted(files_in_keys),
    }
    manifest = sign_json(manifest, SIGNER, key)
    (target / "manifest.json").write_text(json.dumps(manifest, indent=2), "utf-8")
    return manifest


def _identity(path: Path) -> pyrage.x25519.Identity:
    try:
        lines = [ln.strip() for ln in path.read_text("utf-8").splitlines()]
    except OSError as exc:
        raise BackupError(f"cannot read the identity file {path}: {exc.strerror}") from None
    for line in lines:
        if line.startswith("AGE-SECRET-KEY-"):
            return pyrage.x25519.Identity.from_str(line)
    raise BackupError(f"{path} holds no age identity")


def _check_signed(manifest: Any, key: Any) -> None:
    """Only a set this platform's backup key signed (SECURITY.md H.37)."""
    try:
        verify_signed_json(manifest, SIGNER, key)
    except (SignatureVerifyException, KeyError, TypeError):
        raise BackupError("the manifest is not signed by this platform's backup key: refusing to restore") from None


def _empty(config: Config, db: Database) -> bool:
    probe = "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
    done = subprocess.run(
        ["psql", "--no-psqlrc", "-tA", "-c", probe, db.url],  # noqa: S607
        env=_env(config, db),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise BackupError(f"cannot reach the database: {done.stderr.strip()[-300:]}")
    return done.stdout.strip() == "0"


def restore(config: Config, source: Path, identity_file: Path) -> None:
    """Restore a backup into EMPTY databases and the data directory's key files."""
    try:
        manifest = json.loads((source / "manifest.json").read_text("utf-8"))
    except (OSError, ValueError):
        raise BackupError(f"{source} has no readable manifest.json") from None
    identity = _identity(identity_file)
    _check_signed(manifest, _verify_key(identity_file))
    databases = _databases(config)
    expected = {f"{name}.dump.age" for name in DUMPS} | {f"{KEYS}.age"}
    if not isinstance(manifest.get("files"), dict) or set(manifest["files"]) != expected:
        raise BackupError("the manifest does not list the files of a backup")
    for name, digest in dict(manifest["files"]).items():
        if _sha256(source / name) != digest:
            raise BackupError(f"{name} does not match the manifest (damaged or changed)")
    for name in DUMPS:
        if not _empty(config, databases[name]):
            raise BackupError(f"{name}'s database is not empty: restore only into a new, empty database")
    # Beside Synapse's files, which a restore writes anyway (in compose the data dir itself is on
    # the read-only root; only its volumes can be written).
    scratch = synapse_dir(config)
    scratch.mkdir(parents=True, exist_ok=True, mode=0o700)
    with _private_tmp(scratch) as tmp:
        for name in DUMPS:
            dump = tmp / f"{name}.dump"
            try:
                pyrage.decrypt_file(str(source / f"{name}.dump.age"), str(dump), [identity])
            except pyrage.DecryptError:
                raise BackupError("this identity does not open the backup") from None
            db = databases[name]
            _run(
                [
                    "pg_restore",
                    "--no-owner",
                    "--exit-on-error",
                    "--single-transaction",
                    f"--dbname={db.url}",
                    str(dump),
                ],
                _env(config, db),
            )
        archive = tmp / KEYS
        pyrage.decrypt_file(str(source / f"{KEYS}.age"), str(archive), [identity])
        with tarfile.open(archive) as tar:
            _extract(tar, tmp)
        _put_back(config, tmp / "keys")


def _extract(tar: tarfile.TarFile, target: Path) -> None:
    """Plain files and folders only, inside ``target``. Debian bookworm's Python (3.11.2, the
    image's) has no extraction filters yet: the same check by hand there."""
    if hasattr(tarfile, "data_filter"):
        tar.extractall(target, filter="data")
        return
    members = [
        m
        for m in tar.getmembers()
        if (m.isfile() or m.isdir()) and not m.name.startswith("/") and ".." not in Path(m.name).parts
    ]
    tar.extractall(target, members=members)  # noqa: S202 - members checked above


def _put_back(config: Config, staged: Path) -> None:
    """The archive's key files to where this config keeps them (the others stay as they are)."""
    for name, path in _key_files(config).items():
        found = staged / name
        if not found.exists():
            continue
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if found.is_dir():
            shutil.rmtree(path, ignore_errors=True)
            shutil.copytree(found, path)
        else:
            path.unlink(missing_ok=True)
            shutil.copy2(found, path)
            os.chmod(path, 0o600)
