"""`keerpunt backup DIR` and `keerpunt restore DIR`: both databases and the key material, encrypted.

A backup is a folder with, each encrypted with age (``pyrage``, X25519) to the operator's
recipient key:

- ``synapse.dump.age``: ``pg_dump --format=custom`` of Synapse's database, without the rows of
  ``e2e_one_time_keys_json``: a one-time key must be used once, and a restored one could be
  handed out a second time (SECURITY.md E.25). Clients upload new ones when the count is low.
- ``bots.dump.age``: the same of the bots' database.
- ``keys.tar.age``: the key material that must match the databases: the bots' store (session
  and nio's crypto store, copied with SQLite's online backup so a running bot is no problem),
  Synapse's secrets (signing key, macaroon and form secrets), the registration shared secret and
  the outreach invite key.
- ``manifest.json`` (in clear): when, which files, their SHA-256, the recipient. Nothing about
  anyone.

The identity that decrypts it (``keerpunt backup-key FILE``) is kept apart from the backups and
from the servers; a host that makes backups needs only the public recipient. PostgreSQL only:
the embedded SQLite default is for development.
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

import pyrage

from keerpunt.base.config import Config
from keerpunt.synapse_config import synapse_dir

# Rows never restored: one-time keys are single use (their table is kept, empty).
SYNAPSE_SKIP_DATA = ("e2e_one_time_keys_json",)
DUMPS = ("synapse", "bots")
KEYS = "keys.tar"


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
    """Key material by its name in the archive."""
    sdir = synapse_dir(config)
    return {
        "synapse-secrets": sdir / "secrets",
        "registration_shared_secret": config.path(config.homeserver.registration_shared_secret_file),
        "outreach_invite_key": config.path(config.outreach.invite_key_path),
        "bots-store": config.path(config.bots.store_dir),
    }


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


def new_identity(path: Path) -> str:
    """Write a new age identity to ``path`` (0600, never overwritten); return its recipient."""
    identity = pyrage.x25519.Identity.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(f"# keerpunt backup identity; recipient: {identity.to_public()}\n{identity}\n")
    return str(identity.to_public())


def backup(config: Config, target: Path, recipient: str) -> dict[str, object]:
    """Make a backup in the empty (or new) folder ``target``; returns the manifest."""
    try:
        to = pyrage.x25519.Recipient.from_str(recipient.strip())
    except Exception:
        raise BackupError("the recipient is not an age public key (age1…)") from None
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
        for name, path in _key_files(config).items():
            if path.is_dir():
                _copy_store(path, staged / name) if name == "bots-store" else shutil.copytree(path, staged / name)
            elif path.exists():
                staged.mkdir(exist_ok=True)
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
    }
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
    databases = _databases(config)
    for name, digest in dict(manifest["files"]).items():
        if _sha256(source / name) != digest:
            raise BackupError(f"{name} does not match the manifest (damaged or changed)")
    for name in DUMPS:
        if not _empty(config, databases[name]):
            raise BackupError(f"{name}'s database is not empty: restore only into a new, empty database")
    with _private_tmp(config.data_path) as tmp:
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
            tar.extractall(tmp, filter="data")
        staged = tmp / "keys"
        for name, path in _key_files(config).items():
            found = staged / name
            if not found.exists():
                continue
            if found.is_dir():
                shutil.rmtree(path, ignore_errors=True)
                path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                shutil.copytree(found, path)
            else:
                path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                shutil.copy2(found, path)
                os.chmod(path, 0o600)
