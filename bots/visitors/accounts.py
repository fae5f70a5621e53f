"""Visitor accounts: a random identity, how an account is registered, whose a token is, and
erasing it (deactivated with ``erase: true``, the case marked erased).

Erasing is shared by the session end (the visitor ended the chat), the queue (a while after a
counsellor closed it), a return code that ran out and the start-up repair (an erase a crash
left undone). Idempotent: an account that was never registered or is already gone counts as
erased.
"""

from __future__ import annotations

import secrets
from typing import Protocol

from bots.clock import Clock, millis
from bots.db.case import Case, CaseStore
from bots.homeserver.admin import Registration, SynapseError
from bots.homeserver.appservice import VisitorAppservice
from bots.homeserver.ports import Homeserver
from bots.ids import VISITOR_PREFIX, UserID


class NotAVisitor(Exception):
    """The token is invalid or does not belong to a visitor with a case."""


async def token_owner(admin: Homeserver, token: str) -> UserID:
    """Who the visitor's access token belongs to; NotAVisitor for a token Synapse refuses."""
    try:
        return await admin.whoami(token)
    except SynapseError as exc:
        if exc.status in (401, 403):
            raise NotAVisitor from exc
        raise


def visitor_localpart() -> str:
    """128 random bits; no time, no address, nothing about the visitor."""
    return f"{VISITOR_PREFIX}{secrets.token_hex(16)}"


def new_visitor(server_name: str) -> tuple[str, UserID]:
    """A fresh visitor identity: its localpart and its user ID."""
    localpart = visitor_localpart()
    return localpart, UserID(f"@{localpart}:{server_name}")


class Registrar(Protocol):
    """Makes a visitor account with its first device (a start that found no ready session)."""

    async def __call__(self, localpart: str, display_name: str, device_name: str) -> Registration: ...


def shared_secret_registrar(admin: Homeserver) -> Registrar:
    """The admin API's shared-secret registration: a random password Synapse hashes (bcrypt)."""

    async def register(localpart: str, display_name: str, device_name: str) -> Registration:
        password = secrets.token_urlsafe(32)
        return await admin.register(localpart, password, displayname=display_name, device_name=device_name)

    return register


def appservice_registrar(appservice: VisitorAppservice) -> Registrar:
    """The application service: no password, no hash; then the neutral display name (Synapse
    gives the localpart), before the visitor has a token or joins the room."""

    async def register(localpart: str, display_name: str, device_name: str) -> Registration:
        reg = await appservice.register(localpart, device_name=device_name)
        await appservice.set_display_name(reg.user_id, display_name)
        return reg

    return register


class VisitorAccounts:
    def __init__(self, admin: Homeserver, cases: CaseStore, clock: Clock, register: Registrar | None = None) -> None:
        self.admin = admin
        self.cases = cases
        self.clock = clock
        # How a start that found no ready session registers its visitor (the shared secret
        # unless the application service is configured).
        self.register: Registrar = register or shared_secret_registrar(admin)

    async def deactivate(self, visitor: UserID) -> None:
        try:
            await self.admin.deactivate(visitor, erase=True)
        except SynapseError as exc:
            if exc.status != 404:  # never registered: nothing to undo
                raise

    async def erase(self, case: Case) -> None:
        """Deactivate and erase the visitor's account of a closed case."""
        assert case.visitor is not None
        await self.deactivate(case.visitor)
        await self.cases.mark_erased(case.id, millis(self.clock))
