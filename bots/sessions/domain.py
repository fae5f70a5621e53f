"""Visitor sessions: create, end and repair (the rules; no HTTP, no SQL, no sentences).

Creating a session is a sequence of steps, each recorded before the next one starts:

1. the case row (state ``creating``, a free case number),
2. a ready session claimed for it (``bots.sessions.pool``: its account and room become the
   case's in one transaction) and a new device signed in — or, when none is ready, the
   visitor's user ID, then the account and the case room made at the same time,
3. ``open`` (with an outreach invite redeemed and the case routed, in one transaction).

If a step fails the earlier ones are undone at once; if the process dies, ``repair`` at the
next start undoes every case still ``creating`` and every ready session not finished (the
visitor never got its token, so there is nothing to finish): no room without a case or a
ready session, no case without a room, no orphan account.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp

from bots.clock import Clock, millis
from bots.db import Stores
from bots.db.case import Case, NumberTaken
from bots.homeserver.admin import SynapseError
from bots.ids import VISITOR_PREFIX, DeviceID, RoomID, UserID
from bots.sessions.pool import ReadySessions
from bots.sessions.settings import SessionSettings
from bots.sessions.validation import EndReason, StartRequest
from bots.visitors.accounts import NotAVisitor, VisitorAccounts, new_visitor, token_owner
from bots.visitors.closing import close_case
from bots.visitors.rooms import case_room_body

__all__ = ["NewSession", "NotAVisitor", "SessionManager", "SessionUnavailable", "VisitorNames"]

log = logging.getLogger(__name__)

NUMBER_ATTEMPTS = 30

# The visitor ends the chat with the case, their token and why: True when a concern kept the
# case (a return code made it dormant), so it is neither closed nor erased.
Keep = Callable[[Case, str, EndReason], Awaitable[bool]]


async def nothing_kept(case: Case, token: str, reason: EndReason) -> bool:
    return False


class SessionUnavailable(Exception):
    """Synapse or the database failed while creating a session; nothing was left behind."""


@dataclass(frozen=True)
class VisitorNames:
    display_name: str
    device_name: str


@dataclass(frozen=True)
class NewSession:
    case_id: str
    case_number: str
    user_id: UserID
    access_token: str
    device_id: DeviceID
    room_id: RoomID


def _random_number(digits: int) -> str:
    return str(secrets.randbelow(9 * 10 ** (digits - 1)) + 10 ** (digits - 1))


class SessionManager:
    def __init__(
        self,
        accounts: VisitorAccounts,
        stores: Stores,
        clock: Clock,
        settings: SessionSettings,
        *,
        slots: asyncio.Semaphore | None = None,
        pool: ReadySessions | None = None,
        ended: Callable[[], None] = lambda: None,
        keep: Keep = nothing_kept,
    ) -> None:
        self.accounts = accounts
        self.admin = accounts.admin
        # Visitors are registered through the application service (no bcrypt) when there is one.
        self.register = accounts.register
        self.stores = stores
        self.cases = stores.cases
        self.clock = clock
        self.settings = settings
        # Synapse does the heavy part of a session start; in a burst, starts queue here
        # instead of piling up inside Synapse until its answers time out.
        self._starts = slots or asyncio.Semaphore(max(1, settings.concurrent_starts))
        self.pool = pool
        # Called when a case ended here (not through the API): the queue tells the card.
        self.ended = ended
        # Asked before a visitor's end closes and erases the case (a return code keeps it).
        self.keep = keep

    async def _numbered(self, write: Callable[[str], Awaitable[bool]]) -> str:
        """Draw a free case number and ``write`` the case with it; retry if another took it."""
        in_use = await self.cases.numbers_in_use()
        for attempt in range(NUMBER_ATTEMPTS):
            digits = 4 + attempt // 10  # four digits while they last
            number = _random_number(digits)
            if number in in_use:
                continue
            try:
                if not await write(number):
                    raise SessionUnavailable("the case row is gone")
            except NumberTaken:
                in_use.add(number)  # taken by a concurrent session; draw again
                continue
            return number
        raise SessionUnavailable("no free case number")

    async def _insert_case(self, req: StartRequest) -> tuple[str, str]:
        case_id = secrets.token_hex(12)

        async def insert(number: str) -> bool:
            now = millis(self.clock)
            await self.cases.insert(
                case_id, number, language=req.language, entry=req.entry, campaign=req.campaign,
                now=now,
            )  # fmt: skip
            return True

        return case_id, await self._numbered(insert)

    async def start(self, req: StartRequest, names: VisitorNames, invite: str | None = None) -> NewSession:
        """A new session; ``invite`` is the keyed hash of an outreach code, used when the case opens."""
        case_id, number = await self._insert_case(req)
        try:
            ready = await self.pool.claim(case_id) if self.pool is not None else None
        except BaseException:
            await asyncio.shield(self._undo(case_id, None, []))
            raise
        if ready is not None:
            assert ready.room_id is not None and self.pool is not None
            # The account and room exist: only a new device is left to make (no Synapse
            # capacity to wait for, so no slot).
            login = asyncio.ensure_future(self.pool.hand_over(ready, req.language))
            room: asyncio.Future[RoomID] = asyncio.get_running_loop().create_future()
            room.set_result(ready.room_id)
            return await self._finish(case_id, number, ready.visitor, login, room, req, invite)
        localpart, visitor = new_visitor(self.settings.server_name)
        await self.cases.set_visitor(case_id, visitor)
        # The account and the room are made at the same time: the visitor's ID is known
        # before the account exists, and Synapse accepts an invite for it.
        async with self._starts:
            register = asyncio.ensure_future(self.register(localpart, names.display_name, names.device_name))
            create = asyncio.ensure_future(self.admin.create_room(case_room_body(self.settings.bot, visitor)))
            return await self._finish(case_id, number, visitor, register, create, req, invite)

    async def _finish(
        self,
        case_id: str,
        number: str,
        visitor: UserID,
        register: asyncio.Future[Any],
        create: asyncio.Future[RoomID],
        req: StartRequest,
        invite: str | None,
    ) -> NewSession:
        try:
            reg, room_id = await asyncio.gather(register, create)
            now = millis(self.clock)
            async with self.stores.transaction():
                # The invite is used in the same transaction that opens the case: a start that
                # fails leaves the invite open, and a used invite is gone (single use).
                used = await self.stores.invites.redeem(invite, now) if invite is not None else None
                if used is not None:
                    await self.cases.route(case_id, used.worker, used.campaign)
                await self.cases.open(case_id, room_id, now)
                if req.later:  # started while closed, to leave a message (docs/write-later.md)
                    await self.stores.later.started_closed(case_id)
                campaign = req.campaign or (used.campaign if used is not None else None)
                started = f"entry={req.entry} language={req.language} campaign={campaign or '-'}"
                await self.stores.case_log.add(case_id, "started", now, None, started)
        except BaseException as exc:
            log.warning("Creating case %s failed (%s); undoing it", number, type(exc).__name__)
            await asyncio.shield(self._settle_and_undo(case_id, visitor, register, create))
            if isinstance(exc, SynapseError | aiohttp.ClientError | TimeoutError | OSError):
                raise SessionUnavailable(str(exc)) from exc
            raise
        log.info("Case %s opened", number)
        return NewSession(case_id, number, reg.user_id, reg.access_token, reg.device_id, room_id)

    async def _settle_and_undo(
        self, case_id: str, visitor: UserID, register: asyncio.Future[Any], create: asyncio.Future[RoomID]
    ) -> None:
        """Wait until both calls have answered (so what exists is known), then undo.

        A call that was cancelled may still have succeeded in Synapse: then the case stays
        ``creating`` and the next start's repair removes whatever was made.
        """
        await asyncio.wait([register, create])
        created = create.result() if not create.cancelled() and create.exception() is None else None
        uncertain = register.cancelled() or create.cancelled()
        await self._undo(case_id, visitor, [created] if created else [], keep_case=uncertain)

    async def _undo(
        self, case_id: str, visitor: UserID | None, rooms: list[RoomID], *, keep_case: bool = False
    ) -> bool:
        """Undo a half-created case; True when nothing is left. Failures are left for repair."""
        try:
            for room_id in rooms:
                await self.admin.delete_room(room_id, purge=True)
            if visitor is not None:
                await self.accounts.deactivate(visitor)
            if keep_case:
                return False
            await self.cases.delete_creating(case_id)
        except Exception:
            log.exception("Undoing a half-created case failed; it is repaired at the next start")
            return False
        return True

    async def end(self, token: str, reason: EndReason) -> None:
        """The visitor ends the chat: close the case, erase the account, schedule the purge."""
        case = await self.cases.by_visitor(await token_owner(self.admin, token))
        if case is None or case.state == "creating":
            raise NotAVisitor
        if await self.keep(case, token, reason):
            return
        now = millis(self.clock)
        if case.state == "open":
            # 'later' without a code to read the answer with is a plain end.
            reason = "ended" if reason == "later" else reason
            await close_case(self.stores, case.id, reason, now, self.settings.case_room_days)
            log.info("Case %s closed by the visitor (%s)", case.number, reason)
        await self.accounts.erase(case)

    async def devices_changed(self, users: list[UserID]) -> None:
        """A visitor of an open case without any device left signed out (the widget's quick
        exit logs out; if that raced ahead of the end request, this is the end): the case
        closes as a quick exit and the account is erased."""
        for user in users:
            if not user.startswith(f"@{VISITOR_PREFIX}"):
                continue
            case = await self.cases.by_visitor(user)
            if case is None or case.state != "open" or await self.admin.devices(user):
                continue
            now = millis(self.clock)
            if await close_case(self.stores, case.id, "quick_exit", now, self.settings.case_room_days):
                log.info("Case %s closed: its visitor signed out (quick exit)", case.number)
            await self.accounts.erase(case)
            self.ended()

    async def repair(self, known_rooms: set[RoomID]) -> None:
        """Undo every case left ``creating`` and finish every erase left undone."""
        # 'spare': accounts registered ahead of time before ready sessions replaced them.
        creating = await self.cases.in_state("creating") + await self.cases.in_state("spare")
        unfinished = await self.pool.unfinished() if self.pool is not None else []
        if creating or unfinished:
            visitors = {c.visitor for c in creating if c.visitor} | {r.visitor for r in unfinished}
            orphans = await self._orphan_rooms(visitors, known_rooms)
            for case in creating:
                rooms = [case.room_id] if case.room_id else orphans.get(case.visitor, []) if case.visitor else []
                if await self._undo(case.id, case.visitor, rooms):
                    log.info("Repaired half-created case %s (%d room(s) removed)", case.number, len(rooms))
            for ready in unfinished:
                rooms = [ready.room_id] if ready.room_id else orphans.get(ready.visitor, [])
                assert self.pool is not None
                if await self.pool.undo(ready.visitor, rooms):
                    await self.stores.ready.delete(ready.id)
                    log.info("Repaired a half-made ready session (%d room(s) removed)", len(rooms))
        for case in await self.cases.closed_not_erased():
            await self.accounts.erase(case)
            log.info("Finished erasing the visitor of closed case %s", case.number)

    async def _orphan_rooms(self, visitors: set[UserID], known: set[RoomID]) -> dict[UserID, list[RoomID]]:
        """Rooms the bot is in that no case knows, by the visitor they were made for."""
        known = known | await self.cases.room_ids() | await self.stores.ready.room_ids()
        found: dict[UserID, list[RoomID]] = {}
        for room_id in await self.admin.joined_rooms():
            if room_id in known:
                continue
            for event in await self.admin.room_state(RoomID(room_id)):
                if event.get("type") == "m.room.member" and event.get("state_key") in visitors:
                    found.setdefault(UserID(event["state_key"]), []).append(RoomID(room_id))
        return found
