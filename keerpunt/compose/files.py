"""The local stack's folder, ``.keerpunt-compose/``: config, secrets, backups, the backup identity.

The config is the shipped deploy/keerpunt.yaml with only what a run on one machine needs
changed: host names under ``keerpunt.test`` reached on a loopback port, Caddy's local CA, no
Element site, workers when asked for, and the chat open around the clock (tests run at any
hour). Everything else (mode production, PostgreSQL, the volumes' paths, the trusted proxy
addresses) stays as an operator gets it.
"""

from __future__ import annotations

import os
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from keerpunt.backup import new_identity, signing_key_path
from keerpunt.base.config import merge

DOMAIN = "keerpunt.test"
HOSTS = (f"chat.{DOMAIN}", f"www.{DOMAIN}")
# compose.yaml's secret files; the backup signing key comes from `keerpunt backup-key`.
PASSWORDS = ("postgres_password", "synapse_db_password", "bots_db_password")
# The image's user (Dockerfile): the backup service writes into the backup folder as it.
IMAGE_UID = 991
ALL_DAY = ["00:00-24:00"]
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class Folder:
    """Paths of one local stack's folder."""

    root: Path

    @property
    def config(self) -> Path:
        return self.root / "keerpunt.yaml"

    @property
    def secrets(self) -> Path:
        return self.root / "secrets"

    @property
    def backups(self) -> Path:
        return self.root / "backups"

    @property
    def identity(self) -> Path:
        """The backup identity: in production it is kept on a machine apart."""
        return self.root / "keep-apart" / "backup.identity"

    @property
    def recipient(self) -> Path:
        return self.root / "keep-apart" / "recipient"

    @property
    def accounts(self) -> Path:
        return self.root / "accounts.json"

    @property
    def ca_file(self) -> Path:
        return self.root / "ca.crt"


def public_urls(port: int) -> tuple[str, str]:
    """The homeserver's and the portal's public URLs."""
    return f"https://{HOSTS[0]}:{port}", f"https://{HOSTS[1]}:{port}"


def local_config(shipped: dict[str, Any], port: int, *, workers: bool) -> dict[str, Any]:
    homeserver, portal = public_urls(port)
    local = {
        "homeserver": {"server_name": HOSTS[0], "public_url": homeserver},
        "synapse": {"workers": {"enabled": workers}},
        "bots": {"api": {"allowed_origins": [portal]}},
        "portal": {"public_url": portal, "contact": {"email": f"info@{DOMAIN}", "privacy_email": f"privacy@{DOMAIN}"}},
        "proxy": {"staff_url": "", "local_ca": True},
        "hours": {**{day: ALL_DAY for day in DAYS}, "closed_on_public_holidays": False},
    }
    return merge(shipped, local)


def prepare(folder: Folder, shipped_config: Path, port: int, *, workers: bool) -> None:
    """Write the config (every time: SCALE may change) and make the secrets once."""
    folder.root.mkdir(mode=0o700, exist_ok=True)
    config = local_config(yaml.safe_load(shipped_config.read_text("utf-8")), port, workers=workers)
    folder.config.write_text(
        "# Written by `make compose-up` (keerpunt/compose/files.py) from deploy/keerpunt.yaml.\n"
        + yaml.safe_dump(config, sort_keys=False),
        "utf-8",
    )
    folder.config.chmod(0o644)  # read by the image's user
    folder.secrets.mkdir(mode=0o700, exist_ok=True)
    for name in PASSWORDS:
        path = folder.secrets / name
        if not path.exists():
            path.write_text(secrets.token_urlsafe(32) + "\n", "utf-8")
    if not folder.identity.exists():
        folder.identity.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        folder.recipient.write_text(new_identity(folder.identity), "utf-8")
        shutil.move(signing_key_path(folder.identity), folder.secrets / "backup_signing_key")
    for path in folder.secrets.iterdir():
        # File secrets are bind mounts: the services' users (991, postgres) read them as they
        # are. The folder itself stays 0700, which the containers never traverse.
        path.chmod(0o644)
    folder.backups.mkdir(exist_ok=True)
    os.chown(folder.backups, IMAGE_UID, IMAGE_UID)
    folder.backups.chmod(0o700)


def recipient(folder: Folder) -> str:
    return folder.recipient.read_text("utf-8").strip()
