"""The system bot's account and its one stable device.

The account is created once through shared-secret registration (as a Synapse admin, so it
can create visitor accounts and manage staff rooms). Its access token and device ID are kept
in ``<store_dir>/session.json``; the password only in a secret file, for the case that the
session file is lost. The bot never logs out: a restart reuses the same device.
"""

from __future__ import annotations

import json
import logging
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path

from bots.homeserver.admin import SynapseAdmin, SynapseError
from bots.ids import DeviceID, UserID
from keerpunt.base.config import Config
from keerpunt.base.files import write_private

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BotSession:
    user_id: UserID
    device_id: DeviceID
    access_token: str


def store_dir(config: Config) -> Path:
    path = config.path(config.bots.store_dir)
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def load_session(config: Config) -> BotSession | None:
    path = store_dir(config) / "session.json"
    if not path.exists():
        return None
    data = json.loads(path.read_text("utf-8"))
    return BotSession(UserID(data["user_id"]), DeviceID(data["device_id"]), data["access_token"])


async def ensure_bot_session(config: Config, admin: SynapseAdmin) -> BotSession:
    """Return the bot's session, creating the account (once) when it does not exist yet."""
    existing = load_session(config)
    if existing is not None:
        return existing
    sdir = store_dir(config)
    password_file = sdir / "password"
    if password_file.exists():
        # The account exists but the session file was lost: log in again (a new device).
        password = password_file.read_text("utf-8").strip()
        data = await admin.login_password(config.bot_user_id, password)
        session = BotSession(UserID(data["user_id"]), DeviceID(data["device_id"]), data["access_token"])
        log.warning("Bot session file was missing; logged in with a new device %s", session.device_id)
    else:
        password = secrets.token_urlsafe(32)
        write_private(password_file, password)
        try:
            reg = await admin.register(
                config.bots.localpart, password, admin=True, displayname=config.bots.display_name
            )
        except SynapseError as exc:
            if exc.errcode == "M_USER_IN_USE":
                raise RuntimeError(
                    f"{config.bot_user_id} exists but its password file is gone; reset the "
                    "password with Synapse's admin API and write it to "
                    f"{password_file}"
                ) from exc
            raise
        session = BotSession(reg.user_id, reg.device_id, reg.access_token)
    write_private(sdir / "session.json", json.dumps(asdict(session)))
    return session
