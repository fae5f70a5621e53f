"""Ready sessions: visitor accounts with their case room, made before anyone asks.

A session start that finds one only claims it and signs a new device in; no account and no
room are made while the visitor waits (issue 15). Each ready session is:

- a visitor account registered through the application service *without* a device or token
  (``inhibit_login``) and with the neutral display name of the default language,
- its case room, made by the bot exactly as a start makes it (``case_room_body``: encrypted
  from event one, the visitor invited), and nothing else: no case, no queue card, no count;
- the visitor joined to that room (acting as the visitor, without a device): the join is off
  the path of the visitor who presses Start, and the browser's first sync finds the room with
  its members, which its first send waits for (issue 28).

Every step is recorded before the next (``bots.db.ready_session``): the row ('making') before
the account, the room with 'ready'. A crash leaves at most rows that are not 'ready'; the
start-up repair (``SessionManager.repair``) removes their account and room. Ready rows outlive
a restart: they hold no token, so nothing was lost with the process. A claim takes the oldest
one younger than ``max_age`` in one transaction with the case that gets it; the worker here
removes older ones (room purged, account deactivated) and tops the pool up to ``target``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Callable

from bots.clock import Clock, millis
from bots.db import Stores
from bots.db.ready_session import ReadySession
from bots.failpoints import crash_point
from bots.homeserver.admin import Registration
from bots.homeserver.appservice import VisitorAppservice
from bots.ids import RoomID, UserID
from bots.metrics import READY_SESSIONS
from bots.sessions.settings import PoolSettings
from bots.visitors.accounts import VisitorAccounts, new_visitor
from bots.visitors.rooms import case_room_body

log = logging.getLogger(__name__)

Names = Callable[[str], tuple[str, str]]  # language → (display name, device name)

# How often the worker looks for sessions past their age when nothing else wakes it.
AGE_CHECK_SECONDS = 60.0
# A claim that lost a race to another claim tries the next row; after this many lost races
# in a row the start makes its own account and room.
CLAIM_ATTEMPTS = 20


async def claim_ready(stores: Stores, case_id: str, newer_than: int) -> ReadySession | None:
    """The oldest ready session made at or after ``newer_than``, now the account and room of
    the 'creating' case ``case_id``; None when there is none."""
    for _ in range(CLAIM_ATTEMPTS):
        candidate = await stores.ready.oldest_ready(newer_than)
        if candidate is None:
            return None
        # One transaction: the row is gone exactly when the case has its account and room.
        async with stores.transaction():
            ready = await stores.ready.take(candidate)
            if ready is None:
                continue  # another start took it: try the next one
            assert ready.room_id is not None  # a 'ready' row has its room
            if not await stores.cases.adopt(case_id, ready.visitor, ready.room_id):
                raise LookupError("the case for a ready session is gone")  # rolls the take back
            return ready
    return None


# The refill waits while sessions are being claimed: up to this long after the last claim.
REFILL_PAUSE_SECONDS = 3.0
PAUSE_STEP_SECONDS = 0.25


class ReadySessions:
    def __init__(
        self,
        accounts: VisitorAccounts,
        appservice: VisitorAppservice | None,
        stores: Stores,
        clock: Clock,
        settings: PoolSettings,
        names: Names,
        slots: asyncio.Semaphore,
    ) -> None:
        self.accounts = accounts
        self.admin = accounts.admin
        self.appservice = appservice
        self.stores = stores
        self.store = stores.ready
        self.clock = clock
        # Without the application service an account cannot be made without a token, nor a
        # fresh device signed in later: no pool then.
        self.target = max(0, settings.target) if appservice is not None else 0
        self.max_age_ms = settings.max_age_minutes * 60_000
        self.language = settings.language
        self.names = names
        # Synapse's capacity for session starts, shared with the starts that found no ready one.
        self.slots = slots
        self.parallel = max(1, settings.parallel)
        self.settings = settings
        self.ready = 0  # mirrors the table after each change (the gauge and the tests read it)
        self.making = 0
        self._wanted = asyncio.Event()
        self._last_claim = float("-inf")

    @property
    def full(self) -> bool:
        return self.ready >= self.target and self.making == 0

    async def _recount(self) -> None:
        self.ready, self.making = await self.store.count()
        READY_SESSIONS.set(self.ready)

    # --- the visitor's side ----------------------------------------------------------------

    async def claim(self, case_id: str) -> ReadySession | None:
        """A ready session, now the account and room of the 'creating' case; None when empty.

        Ready sessions left from a larger ``target`` (before a restart) are claimed too.
        """
        if self.appservice is None:
            return None
        self._last_claim = self.clock.monotonic()
        try:
            return await claim_ready(self.stores, case_id, millis(self.clock) - self.max_age_ms)
        finally:
            await self._recount()
            self._wanted.set()  # top up again

    async def hand_over(self, ready: ReadySession, language: str) -> Registration:
        """A new device and token of the claimed account, named for ``language`` first.

        The account never had a device before: the browser gets one nobody else had a token for.
        """
        assert self.appservice is not None
        display_name, device_name = self.names(language)
        if display_name != self.names(ready.language)[0]:
            await self.appservice.set_display_name(ready.visitor, display_name)
        return await self.appservice.login(ready.visitor, device_name=device_name)

    # --- the worker ------------------------------------------------------------------------

    async def step(self) -> None:
        """One round for ``backoff_loop``: remove the too old, fill up, wait to be needed."""
        await self._remove_old()
        await self._recount()
        while self.ready + self.making < self.target:
            await self._quiet()
            wanted = min(self.parallel, self.target - self.ready - self.making)
            results = await asyncio.gather(*(self._make_one() for _ in range(wanted)), return_exceptions=True)
            await self._recount()
            errors = [r for r in results if isinstance(r, BaseException)]
            if errors:
                raise errors[0]
        self._wanted.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wanted.wait(), AGE_CHECK_SECONDS)

    async def _quiet(self) -> None:
        """Wait (a little) while visitors are starting: in a burst Synapse's capacity is theirs
        (their sign-ins, key uploads, joins and syncs); the pool fills up again behind it."""
        for _ in range(int(REFILL_PAUSE_SECONDS / PAUSE_STEP_SECONDS)):
            if self.clock.monotonic() - self._last_claim >= REFILL_PAUSE_SECONDS:
                return
            await asyncio.sleep(PAUSE_STEP_SECONDS)

    async def undo(self, visitor: UserID, rooms: list[RoomID]) -> bool:
        """Remove a ready session's room and account (its row is the caller's to delete)."""
        try:
            for room_id in rooms:
                await self.admin.delete_room(room_id, purge=True)
            await self.accounts.deactivate(visitor)
        except Exception:
            log.exception("Removing a ready session failed; it is repaired at the next start")
            return False
        return True

    async def _make_one(self) -> None:
        assert self.appservice is not None
        ready_id = secrets.token_hex(12)
        localpart, visitor = new_visitor(self.settings.server_name)
        await self.store.insert_making(ready_id, visitor, self.language, millis(self.clock))
        self.making += 1
        room: RoomID | None = None
        try:
            async with self.slots:  # shares Synapse's capacity with the session starts
                await self.appservice.register(localpart, login=False)
                crash_point("ready.registered")
                await self.appservice.set_display_name(visitor, self.names(self.language)[0])
                room = await self.admin.create_room(case_room_body(self.settings.bot, visitor))
                await self.appservice.join(visitor, room)
            crash_point("ready.room_made")
            await self.store.mark_ready(ready_id, room)
        except asyncio.CancelledError:
            raise  # perhaps made in Synapse; the row stays 'making' for the repair at the next start
        except Exception:
            if await asyncio.shield(self.undo(visitor, [room] if room else [])):
                await self.store.delete(ready_id)
            raise

    async def _remove_old(self) -> None:
        for old in await self.store.older_than(millis(self.clock) - self.max_age_ms):
            if not await self.store.take_for_removal(old.id):
                continue  # claimed meanwhile
            if await self.undo(old.visitor, [old.room_id] if old.room_id else []):
                await self.store.delete(old.id)
            log.info("Replaced a ready session past its age")

    async def unfinished(self) -> list[ReadySession]:
        """Rows a crash left half made or half removed (every one that is not 'ready')."""
        return [r for r in await self.store.all() if r.state != "ready"]
