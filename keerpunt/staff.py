"""`keerpunt staff add`: create a staff account and put it in the rooms of its role."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

import aiohttp

from bots.db import create_database
from bots.db.staff import Role, StaffStore
from bots.db.system_room import SystemRoomStore
from bots.homeserver.account import load_session
from bots.homeserver.admin import SynapseAdmin, SynapseError
from bots.ids import UserID
from bots.matrix.staff_rooms import StaffRooms
from keerpunt.config import Config, read_secret

LOCALPART_RE = re.compile(r"^[a-z0-9._=/-]{1,64}$")


class StaffError(Exception):
    """A user-facing error of the staff command."""


@dataclass(frozen=True)
class NewStaff:
    user_id: UserID
    password: str
    role: Role


def localpart_for(name: str) -> str:
    local = re.sub(r"[^a-z0-9._=-]+", "-", name.strip().lower()).strip("-")
    if not LOCALPART_RE.match(local):
        raise StaffError(f"cannot make a Matrix user name from {name!r}; use letters, digits, '.', '-' or '_'")
    return local


def check_partner(config: Config, role: Role, partner_id: str | None) -> None:
    """A partner account belongs to a partner of the directory; nobody else names one."""
    if role != "partner":
        if partner_id:
            raise StaffError("--partner is only for --role partner")
        return
    if not partner_id:
        raise StaffError("a partner account needs --partner <id> (an id from the partner directory)")
    from bots.handover.directory import configured_directory
    from bots.triage import load_definition

    directory = configured_directory(config, load_definition())
    if directory.get(partner_id) is None:
        known = ", ".join(p.id for p in directory.partners) or "none: set handover.partners_file"
        raise StaffError(f"{partner_id!r} is not in the partner directory (partners: {known})")


async def add_staff(config: Config, name: str, role: Role, partner_id: str | None = None) -> NewStaff:
    check_partner(config, role, partner_id)
    localpart = localpart_for(name)
    if localpart == config.bots.localpart:
        raise StaffError(f"{localpart!r} is the system bot's name; choose another")
    password = secrets.token_urlsafe(18)
    db = create_database(config)
    await db.start()
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as http:
            admin = SynapseAdmin(
                config.homeserver.internal_url,
                session=http,
                shared_secret=read_secret(config, config.homeserver.registration_shared_secret_file),
            )
            try:
                reg = await admin.register(localpart, password, displayname=name.strip())
            except SynapseError as exc:
                if exc.errcode == "M_USER_IN_USE":
                    raise StaffError(f"@{localpart}:{config.homeserver.server_name} already exists") from exc
                raise
            staff = StaffStore(db)
            await staff.add(reg.user_id, role, partner_id)
            session = load_session(config)
            if session is not None:
                admin.access_token = session.access_token
                await StaffRooms(config, admin, SystemRoomStore(db), staff).add_member(reg.user_id, role)
            return NewStaff(reg.user_id, password, role)
    finally:
        await db.stop()
