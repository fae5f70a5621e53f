"""`keerpunt staff`: add, list and disable staff accounts, and re-trust a reset identity.

Staff are pseudonymous to visitors and partners (SECURITY.md G.34): the name a visitor sees is
a display name chosen for that (a first name or a pseudonym), and the Matrix ID carries no
name at all unless the operator picks a login on purpose (``--login``): by default it is the
role and a random suffix, e.g. ``@counsellor-3fa9c1:keerpunt.nl``.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import aiohttp

from bots.crypto.cross_signing import query_keys
from bots.db import Database, create_database
from bots.db.outreach_invite import InviteStore
from bots.db.pinned_identity import PinnedIdentityStore
from bots.db.staff import Role, StaffMember, StaffStore
from bots.db.system_room import SystemRoomStore
from bots.homeserver.account import load_session
from bots.homeserver.admin import SynapseAdmin, SynapseError
from bots.ids import UserID
from bots.matrix.staff_rooms import StaffRooms
from keerpunt.base.config import Config, read_secret
from keerpunt.site.content import LANGUAGES

LOGIN_RE = re.compile(r"^[a-z0-9._=-]{1,64}$")
KEY_RE = re.compile(r"^[A-Za-z0-9+/]{43}$")  # an Ed25519 public key, unpadded base64
SHOWN_AS_MAX = 40


class StaffError(Exception):
    """A user-facing error of the staff command."""


@dataclass(frozen=True)
class NewStaff:
    user_id: UserID
    password: str
    role: Role


@dataclass(frozen=True)
class Listed:
    member: StaffMember
    shown_as: str
    active: bool


def check_partner(config: Config, role: Role, partner_id: str | None) -> None:
    """A partner account belongs to a partner of the directory; nobody else names one."""
    if role != "partner":
        if partner_id:
            raise StaffError("--partner is only for --role partner")
        return
    if not partner_id:
        raise StaffError("a partner account needs --partner <id> (an id from the partner directory)")
    from bots.partners.directory import configured_directory
    from bots.triage import load_definition

    directory = configured_directory(config, load_definition())
    if directory.get(partner_id) is None:
        known = ", ".join(p.id for p in directory.partners) or "none: set handover.partners_file"
        raise StaffError(f"{partner_id!r} is not in the partner directory (partners: {known})")


def check_languages(languages: tuple[str, ...]) -> None:
    unknown = [code for code in languages if code not in LANGUAGES]
    if not languages or unknown:
        raise StaffError(f"--languages: unknown {', '.join(unknown) or 'empty'}; use some of {', '.join(LANGUAGES)}")


def login_for(role: Role, login: str | None) -> str:
    """The login (Matrix localpart): the one asked for, or the role with a random suffix."""
    if login is None:
        return f"{role}-{secrets.token_hex(3)}"
    if not LOGIN_RE.match(login):
        raise StaffError(f"{login!r} is not a login: use a-z, 0-9, '.', '_', '=' or '-'")
    return login


def check_shown_as(shown_as: str) -> str:
    name = " ".join(shown_as.split())
    if not name or len(name) > SHOWN_AS_MAX:
        raise StaffError(f"the name visitors see must be 1 to {SHOWN_AS_MAX} characters (a first name or pseudonym)")
    return name


@asynccontextmanager
async def _connected(config: Config) -> AsyncIterator[tuple[Database, SynapseAdmin]]:
    """The bots' database and Synapse's admin API as the system bot (when it exists)."""
    db = create_database(config)
    await db.start()
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as http:
            admin = SynapseAdmin(
                config.homeserver.internal_url,
                session=http,
                shared_secret=read_secret(config, config.homeserver.registration_shared_secret_file),
            )
            session = load_session(config)
            if session is not None:
                admin.access_token = session.access_token
            yield db, admin
    finally:
        await db.stop()


async def add_staff(
    config: Config,
    shown_as: str,
    role: Role,
    partner_id: str | None = None,
    *,
    login: str | None = None,
    organisation: str | None = None,
    supervisor: bool = False,
    languages: tuple[str, ...] | None = None,
) -> NewStaff:
    check_partner(config, role, partner_id)
    if supervisor and role != "counsellor":
        raise StaffError("--supervisor is only for --role counsellor")
    if languages is not None:
        check_languages(languages)
    name = check_shown_as(shown_as)
    if organisation is not None:
        if role != "outreach":
            raise StaffError("--organisation is only for --role outreach")
        organisation = check_shown_as(organisation)
        # Visitors see who joins by display name: "Sam (Spine)" says who reached out.
        name = f"{name} ({organisation})"
    localpart = login_for(role, login)
    if localpart == config.bots.localpart:
        raise StaffError(f"{localpart!r} is the system bot's name; choose another")
    password = secrets.token_urlsafe(18)
    async with _connected(config) as (db, admin):
        try:
            reg = await admin.register(localpart, password, displayname=name)
        except SynapseError as exc:
            if exc.errcode == "M_USER_IN_USE":
                raise StaffError(f"@{localpart}:{config.homeserver.server_name} already exists") from exc
            raise
        staff = StaffStore(db)
        await staff.add(reg.user_id, role, partner_id, organisation)
        if supervisor:
            await staff.set_supervisor(reg.user_id, True)
        if languages is not None:
            await staff.set_languages(reg.user_id, languages)
        if admin.access_token:
            from bots.app import declarations  # the rooms each role joins, as its concern declares

            rooms = StaffRooms(config, admin, SystemRoomStore(db), staff, declarations().layout)
            await rooms.add_member(reg.user_id, role)
        return NewStaff(reg.user_id, password, role)


def user_id_of(config: Config, name: str) -> UserID:
    """``@login:server``, or just the login."""
    user = name if name.startswith("@") else f"@{name}:{config.homeserver.server_name}"
    return UserID(user)


async def list_staff(config: Config) -> list[Listed]:
    async with _connected(config) as (db, admin):
        out = []
        for member in await StaffStore(db).all():
            try:
                account = await admin.user(member.user_id)
            except SynapseError:
                account = {"deactivated": True}
            out.append(Listed(member, str(account.get("displayname") or ""), not account.get("deactivated")))
        return out


async def disable_staff(config: Config, name: str) -> UserID:
    """Deactivate the account: every session ends, it leaves every room, and the bots no longer
    count it as staff (commands and 👍 are refused; no device of it gets room keys)."""
    user = user_id_of(config, name)
    async with _connected(config) as (db, admin):
        staff = StaffStore(db)
        if await staff.get(user) is None:
            raise StaffError(f"{user} is not a staff member")
        if not admin.access_token:
            raise StaffError("the bots have not started yet (no system bot session)")
        await admin.deactivate(user, erase=False)
        await staff.remove(user)
        await InviteStore(db).drop_worker(user)  # their open invites lead to the queue from now on
        await PinnedIdentityStore(db).forget(user)
        return user


async def set_supervisor(config: Config, name: str, supervisor: bool) -> UserID:
    """Let a counsellor read along in colleagues' chats (``!watch``), or no longer."""
    user = user_id_of(config, name)
    async with _connected(config) as (db, _admin):
        member = await StaffStore(db).get(user)
        if member is None or member.role != "counsellor":
            raise StaffError(f"{user} is not a counsellor")
        await StaffStore(db).set_supervisor(user, supervisor)
        return user


async def set_languages(config: Config, name: str, languages: tuple[str, ...]) -> UserID:
    """The languages a staff member speaks (routing by language, issue 26)."""
    check_languages(languages)
    user = user_id_of(config, name)
    async with _connected(config) as (db, _admin):
        if await StaffStore(db).get(user) is None:
            raise StaffError(f"{user} is not staff")
        await StaffStore(db).set_languages(user, languages)
        return user


def fingerprint(key: str) -> str:
    """A public key as Element shows keys: its unpadded base64 in groups of four characters."""
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))


async def reset_identity(config: Config, name: str, key: str) -> UserID:
    """Trust a staff member's new cross-signing identity after they reset it themselves: the
    bots pin the master key ``key`` (its fingerprint as the staff member's own Element shows it,
    spaces or none) and only that one, and only when it is the identity Synapse has for them now
    (security review N12). Someone who took over the account and reset its identity has another
    key: the bots keep refusing it."""
    user = user_id_of(config, name)
    given = "".join(key.split())
    if not KEY_RE.fullmatch(given):
        raise StaffError("--key takes the identity's master key: 43 characters (letters, digits, + and /)")
    async with _connected(config) as (db, admin):
        if await StaffStore(db).get(user) is None:
            raise StaffError(f"{user} is not a staff member")
        if not admin.access_token:
            raise StaffError("the bots have not started yet (no system bot session)")
        keys = (await query_keys(admin, [user])).get(user)
        master = keys.master_public if keys is not None else None
        if master is None:
            raise StaffError(f"{user} has no cross-signing identity: they sign in to Element and set it up first")
        if not secrets.compare_digest(given, master):
            raise StaffError(
                f"that key is not {user}'s identity now; nothing was changed. The identity Synapse has for "
                f"{user}: {fingerprint(master)}. If {user} did not reset it themselves, someone else may "
                "have: disable the account (keerpunt staff disable) and give them a new one."
            )
        await PinnedIdentityStore(db).replace(user, master, int(time.time() * 1000))
        # Their new identity's devices cannot read the cards sent before it: the bots post the
        # live cards again once a device of it is cross-signed (bots.queue.workers.sessions).
        await StaffStore(db).owe_cards(user)
        return user
