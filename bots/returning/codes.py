"""The anonymous return code: register, go dormant, come back, expire (docs/return-code.md).

The rules only: no HTTP (``bots.returning.api``), no SQL (``bots.db.return_code``). The
bots hold keyed hashes of the code's lookup value and verifier, never the code, the second word
or the secret-storage key; the login secret passes through once, to become the password.

A dormant case is skipped by every timer and by retention (they select open or closed cases);
this module's periodic step ends it when its code expires, and a wrong second word counted
``max_wrong`` times ends it at once. Ending it closes the case (``code_expired`` or
``code_wrong``), erases the account and leaves the purge to retention, as for any close.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bots.clock import Clock, millis
from bots.db import Stores
from bots.db.case import Case
from bots.ids import RoomID, UserID
from bots.matrix.content import staff_text
from bots.texts import Language, text
from bots.visitors.accounts import NotAVisitor, VisitorAccounts, token_owner
from keerpunt.base.config import Config

log = logging.getLogger(__name__)

DAY_MS = 86_400_000
CHECK_INTERVAL = 300.0


@dataclass(frozen=True)
class ReturnSettings:
    """``return_code:`` (docs/return-code.md), the language staff are told in, and what a
    return answers besides the case (the homeserver's public URL and the bot)."""

    valid_days: int
    max_wrong: int
    staff_language: Language
    public_url: str
    bot: UserID

    @classmethod
    def of(cls, config: Config) -> ReturnSettings:
        code = config.return_code
        return cls(
            code.valid_days,
            code.max_wrong,
            config.languages.default,
            config.homeserver.public_url,
            UserID(config.bot_user_id),
        )


@dataclass(frozen=True)
class Returned:
    user_id: UserID
    room_id: RoomID
    number: str
    days: int


class CodeKeyer:
    """Keyed hashes (HMAC-SHA256) of a lookup value and of a verifier, under one secret key."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("the return code key is too short")
        self._key = key

    def lookup(self, lookup: bytes) -> str:
        return hmac.new(self._key, b"lookup\x00" + lookup, hashlib.sha256).hexdigest()

    def verifier(self, lookup: bytes, verifier: bytes) -> str:
        return hmac.new(self._key, b"verifier\x00" + lookup + verifier, hashlib.sha256).hexdigest()


class ReturnCodes:
    def __init__(
        self,
        accounts: VisitorAccounts,
        stores: Stores,
        clock: Clock,
        keyer: CodeKeyer,
        settings: ReturnSettings,
        *,
        changed: Callable[[], None] = lambda: None,
        expect_device: Callable[[UserID], Awaitable[None]] | None = None,
    ) -> None:
        self.accounts = accounts
        self.admin = accounts.admin
        self.stores = stores
        self.clock = clock
        self.keyer = keyer
        self.valid_days = settings.valid_days
        self.max_wrong = settings.max_wrong
        self.staff_language = settings.staff_language
        self.changed = changed  # wakes the queue's workers (cards, posts)
        # Told before the case wakes that the visitor is about to sign in on a new device, so the
        # bots' messages to the room wait for it (TrustPolicy.expect_new_device).
        self.expect_device = expect_device

    async def _visitor_case(self, token: str) -> Case:
        case = await self.stores.cases.by_visitor(await token_owner(self.admin, token))
        if case is None or case.state != "open" or case.visitor is None:
            raise NotAVisitor
        return case

    async def register(self, token: str, lookup: bytes, verifier: bytes, login: str) -> None:
        """Give the token's open case a code (or a new one: rotation) and the account its password."""
        case = await self._visitor_case(token)
        assert case.visitor is not None
        # The password first: a code whose login secret Synapse does not know would let the
        # visitor in at the bots and then fail at Synapse.
        await self.admin.set_password(case.visitor, login)
        now = millis(self.clock)
        async with self.stores.transaction():
            await self.stores.codes.put(case.id, self.keyer.lookup(lookup), self.keyer.verifier(lookup, verifier), now)
            await self.stores.case_log.add(case.id, "code_made", now)
        log.info("Case %s has a return code", case.number)

    async def end_with_code(self, case: Case, token: str) -> bool:
        """The visitor ends the chat: True when it has a code and is (now) dormant, not erased.

        The concern's end hook: ``SessionManager.end`` asks it before it would close and erase
        the case."""
        if case.state == "dormant":
            return True
        if case.state != "open" or case.visitor is None or await self.stores.codes.of_case(case.id) is None:
            return False
        keep = await self.admin.dehydrated_device(token)  # asked while the token still works
        now = millis(self.clock)
        until = now + self.valid_days * DAY_MS
        async with self.stores.transaction():
            if not await self.stores.dormancy.go_dormant(case.id, now, until):
                return False
            await self.stores.codes.set_expiry(case.id, until)
            await self.stores.case_log.add(case.id, "dormant", now)
        # Dormant first, so that the devices going away does not read as a quick exit.
        devices = [str(d["device_id"]) for d in await self.admin.devices(case.visitor)]
        await self.admin.delete_devices(case.visitor, [d for d in devices if d != keep])
        await self.admin.set_locked(case.visitor, True)
        history = "with history" if keep else "no dehydrated device"
        log.info("Case %s is dormant (return code, %s)", case.number, history)
        self.changed()
        return True

    async def come_back(self, lookup: bytes, verifier: bytes) -> Returned | None:
        """The visitor returns: the case if the code is known, valid and the verifier right.

        None for anything else, alike for the caller. A wrong verifier is counted; at
        ``max_wrong`` the case is erased. A right one uses the code up (the widget registers a
        new one: rotation)."""
        code = await self.stores.codes.by_lookup(self.keyer.lookup(lookup))
        if code is None:
            return None
        case = await self.stores.cases.get(code.case_id)
        now = millis(self.clock)
        if case is None or case.state != "dormant" or case.visitor is None or case.room_id is None:
            return None
        if code.expires_at is not None and code.expires_at <= now:
            await self.end(case, "code_expired")
            return None
        if not hmac.compare_digest(self.keyer.verifier(lookup, verifier), code.verifier_hash):
            wrong = await self.stores.codes.wrong_word(case.id)
            log.info("A wrong word for the return code of case %s (%d of %d)", case.number, wrong, self.max_wrong)
            if wrong >= self.max_wrong:
                await self.end(case, "code_wrong")
            return None
        await self.admin.set_locked(case.visitor, False)
        if self.expect_device is not None:
            await self.expect_device(case.visitor)
        async with self.stores.transaction():
            await self.stores.codes.forget(case.id)  # used up
            if not await self.stores.dormancy.wake(case.id, now):
                return None
            dormancy = await self.stores.dormancy.get(case.id)
            days = dormancy.days_away(now) if dormancy is not None else 0
            await self.stores.case_log.add(case.id, "returned", now, None, f"days={days}")
        log.info("The visitor of case %s returned with a code after %d days", case.number, days)
        self.changed()
        return Returned(case.visitor, case.room_id, case.number, days)

    async def end(self, case: Case, reason: str) -> None:
        """End a dormant case: closed, its code gone, the counsellor told, the account erased."""
        now = millis(self.clock)
        async with self.stores.transaction():
            if not await self.stores.dormancy.end_dormant(case.id, reason, now):
                return
            await self.stores.codes.forget(case.id)
            await self.stores.case_log.add(case.id, "case_closed", now, None, reason)
            if await self.stores.queue.workflow.get(case.id) is not None:
                body = text(self.staff_language, f"queue.staff.{reason}", number=case.number)
                await self.stores.posts.add(case.id, "reply", staff_text(body), now)
        log.info("Dormant case %s ended (%s)", case.number, reason)
        await self.accounts.erase(case)
        self.changed()

    async def run_once(self) -> int:
        """End every dormant case whose code expired; how many."""
        ended = 0
        for case_id in await self.stores.codes.expired(millis(self.clock)):
            case = await self.stores.cases.get(case_id)
            if case is not None and case.state == "dormant":
                await self.end(case, "code_expired")
                ended += 1
            else:
                await self.stores.codes.forget(case_id)
        return ended

    async def step(self) -> None:
        """One round for ``backoff_loop``."""
        await self.run_once()
        await asyncio.sleep(CHECK_INTERVAL)
