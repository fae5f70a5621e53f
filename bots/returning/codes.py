"""The anonymous return code: register, go dormant, come back (docs/return-code.md).

The rules only: no HTTP (``bots.returning.api``), no SQL (``bots.db.return_code``). The
bots hold keyed hashes of the code's lookup value and verifier, never the code, the second word
or the secret-storage key; the login secret passes through once, to become the password.

- A code belongs to one case: a lookup value another case's code has is refused, never taken
  over (SECURITY.md H.38).
- Registering a code, and a right return, hand the widget a value only the bots can make (an
  HMAC under their key) that it mixes into the secret-storage key: with a copy of Synapse's
  database and the code, a second word can only be tried through ``/return``, which counts it.
- A return wakes the case and unlocks the account, and the code waits for the returning
  device: until a device of the visitor signs in (or a new code replaces it), the same code and
  word bring the visitor back again, so a login Synapse refuses loses nothing.

A dormant case ends at its own expiry (``bots.returning.dormant``); a wrong second word counted
``max_wrong`` times ends it at once.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from bots.clock import millis
from bots.db.case import Case
from bots.db.later import LATER, LaterReason
from bots.db.return_code import LookupTaken
from bots.ids import RoomID, UserID
from bots.returning.dormant import DormantCases
from bots.texts import Language
from bots.visitors.accounts import NotAVisitor, token_owner
from keerpunt.base.config import Config
from keerpunt.base.hours import OpeningHours

log = logging.getLogger(__name__)

DAY_MS = 86_400_000
HOUR_MS = 3_600_000


@dataclass(frozen=True)
class ReturnSettings:
    """``return_code:`` (docs/return-code.md), the language staff are told in, and what a
    return answers besides the case (the homeserver's public URL and the bot)."""

    valid_days: int
    max_wrong: int
    staff_language: Language
    public_url: str
    bot: UserID
    # Write now, answered later (``async:``, docs/write-later.md): whether a visitor may leave
    # a message with their code, how long one nobody answered is kept, what the widget promises.
    later: bool = False
    keep_days: int = 7
    answer_within_hours: int = 24

    @classmethod
    def of(cls, config: Config) -> ReturnSettings:
        code = config.return_code
        return cls(
            code.valid_days,
            code.max_wrong,
            config.languages.default,
            config.homeserver.public_url,
            UserID(config.bot_user_id),
            later=config.async_.enabled and code.enabled,
            keep_days=config.async_.keep_days,
            answer_within_hours=config.async_.answer_within_hours,
        )


@dataclass(frozen=True)
class Returned:
    user_id: UserID
    room_id: RoomID
    number: str
    days: int
    # What the widget mixes into the secret-storage key; None for a code made before the bots
    # took part (docs/return-code.md "Codes made before").
    key: bytes | None


class CodeRefused(Exception):
    """A code the bots will not register: another case's code has its lookup value."""


class CodeKeyer:
    """Keyed hashes (HMAC-SHA256) of a lookup value and of a verifier, and the bots' part of
    the secret-storage key, under one secret key."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("the return code key is too short")
        self._key = key

    def lookup(self, lookup: bytes) -> str:
        return hmac.new(self._key, b"lookup\x00" + lookup, hashlib.sha256).hexdigest()

    def verifier(self, lookup: bytes, verifier: bytes) -> str:
        return hmac.new(self._key, b"verifier\x00" + lookup + verifier, hashlib.sha256).hexdigest()

    def storage(self, lookup: bytes, verifier: bytes) -> bytes:
        """The bots' part of the secret-storage key of this code and word (32 bytes)."""
        return hmac.new(self._key, b"ssss\x00" + lookup + verifier, hashlib.sha256).digest()


class ReturnCodes:
    def __init__(
        self,
        dormant: DormantCases,
        keyer: CodeKeyer,
        settings: ReturnSettings,
        *,
        changed: Callable[[], None] = lambda: None,
        expect_device: Callable[[UserID], Awaitable[None]] | None = None,
        hours: OpeningHours | None = None,
    ) -> None:
        self.dormant = dormant
        self.settings = settings
        # Whether a message left to be answered later was written while the chat was closed.
        self.hours = hours
        self.admin = dormant.admin
        self.stores = dormant.stores
        self.clock = dormant.clock
        self.keyer = keyer
        self.valid_days = settings.valid_days
        self.max_wrong = settings.max_wrong
        self.changed = changed  # wakes the queue's workers (cards, posts)
        # Told before the case wakes that the visitor is about to sign in on a new device, so the
        # bots' messages to the room wait for it (TrustPolicy.expect_new_device).
        self.expect_device = expect_device

    async def _visitor_case(self, token: str) -> Case:
        case = await self.stores.cases.by_visitor(await token_owner(self.admin, token))
        if case is None or case.state != "open" or case.visitor is None:
            raise NotAVisitor
        return case

    async def register(self, token: str, lookup: bytes, verifier: bytes, login: str) -> bytes:
        """Give the token's open case a code (or a new one: rotation) and the account its
        password; the bots' part of the code's secret-storage key. ``CodeRefused`` when
        another case's code has the same lookup value: that code is left as it is."""
        case = await self._visitor_case(token)
        assert case.visitor is not None
        lookup_hash = self.keyer.lookup(lookup)
        taken = await self.stores.codes.by_lookup(lookup_hash)
        if taken is not None and taken.case_id != case.id:
            raise CodeRefused
        # The password first: a code whose login secret Synapse does not know would let the
        # visitor in at the bots and then fail at Synapse.
        await self.admin.set_password(case.visitor, login)
        now = millis(self.clock)
        try:
            async with self.stores.transaction():
                await self.stores.codes.put(case.id, lookup_hash, self.keyer.verifier(lookup, verifier), now)
                await self.stores.case_log.add(case.id, "code_made", now)
        except LookupTaken:
            raise CodeRefused from None  # taken by another case since the check above
        log.info("Case %s has a return code", case.number)
        return self.keyer.storage(lookup, verifier)

    async def end_with_code(self, case: Case, token: str, reason: str) -> bool:
        """The visitor ends the chat: True when it has a code and is (now) dormant, not erased.

        The concern's end hook: ``SessionManager.end`` asks it before it would close and erase
        the case. A quick exit with a code keeps the case too, and the counsellor is told the
        visitor left in a hurry (``dormant_quick_exit``)."""
        if case.state == "dormant":
            return True
        code = await self.stores.codes.of_case(case.id)
        if case.state != "open" or case.visitor is None or code is None or code.returned_at is not None:
            return False
        keep = await self.admin.dehydrated_device(token)  # asked while the token still works
        now = millis(self.clock)
        until = now + self.valid_days * DAY_MS
        later = self.settings.later and (reason == "later" or (reason == "ended" and await self._wrote_later(case)))
        dormant = LATER if later else "dormant_quick_exit" if reason == "quick_exit" else "dormant"
        # A message nobody answers ends after keep_days; once answered, with its code.
        ends = now + self.settings.keep_days * DAY_MS if later else until
        try:
            async with self.stores.transaction():
                # The code and the case change together or not at all: no dormant case without
                # a live code, no code kept for a case that closed meanwhile.
                if not await self.stores.codes.keep_until(case.id, until, keep):
                    return False
                if not await self.stores.dormancy.go_dormant(case.id, now, ends, reason=dormant):
                    raise _Undo
                await self.stores.case_log.add(case.id, "dormant", now)
                if later:
                    await self._leave_message(case, now)
        except _Undo:
            return False
        # Dormant first, so that the devices going away does not read as a quick exit.
        devices = [str(d["device_id"]) for d in await self.admin.devices(case.visitor)]
        await self.admin.delete_devices(case.visitor, [d for d in devices if d != keep])
        await self.admin.set_locked(case.visitor, True)
        history = "with history" if keep else "no dehydrated device"
        log.info("Case %s is dormant (return code, %s, %s)", case.number, history, reason)
        self.changed()
        return True

    async def _wrote_later(self, case: Case) -> bool:
        """The case was a message left for later before: a visitor who came back to read the
        answer and ends with a code leaves a message again (docs/write-later.md "Returning")."""
        later = await self.stores.later.get(case.id)
        return later is not None and later.left_at is not None

    async def _leave_message(self, case: Case, now: int) -> None:
        """The case waits for an answer (docs/write-later.md): why, since when, promised by when
        (the next opening, or now when the chat is open, plus ``answer_within_hours``)."""
        moment = datetime.fromtimestamp(now / 1000, tz=UTC)
        is_open = self.hours is None or self.hours.is_open(moment)
        opening = None if is_open or self.hours is None else self.hours.next_opening(moment)
        start = int(opening.timestamp() * 1000) if opening is not None else now
        due = start + self.settings.answer_within_hours * HOUR_MS
        reason: LaterReason = "long_wait" if is_open else "closed"
        await self.stores.later.left(case.id, reason, now, due)
        await self.stores.case_log.add(case.id, "later_left", now, None, f"reason={reason}")

    async def come_back(self, lookup: bytes, verifier: bytes) -> Returned | None:
        """The visitor returns: the case if the code is known, valid and the verifier right.

        None for anything else, alike for the caller. A wrong verifier is counted; at
        ``max_wrong`` the case is erased (or, once returned, the code forgotten). A right one
        wakes the case; the code then waits for the returning device (``bots.returning.dormant``
        forgets it once that device exists; the widget registers a new code: rotation)."""
        code = await self.stores.codes.by_lookup(self.keyer.lookup(lookup))
        if code is None:
            return None
        case = await self.stores.cases.get(code.case_id)
        now = millis(self.clock)
        if case is None or case.visitor is None or case.room_id is None:
            return None
        waking = case.state == "dormant" and code.returned_at is None
        again = case.state == "open" and code.returned_at is not None
        if not (waking or again):
            return None
        if code.expires_at is not None and code.expires_at <= now:
            if waking:
                await self.dormant.end(case, "code_expired")
            return None
        if not hmac.compare_digest(self.keyer.verifier(lookup, verifier), code.verifier_hash):
            await self._wrong(case, waking)
            return None
        if again and await self.dormant.signed_in(case, code):
            await self.stores.codes.forget(case.id)  # the returning device exists: used up
            return None
        await self.admin.set_locked(case.visitor, False)
        if self.expect_device is not None:
            await self.expect_device(case.visitor)
        if waking and not await self._wake(case, now):
            return None
        dormancy = await self.stores.dormancy.get(case.id)
        days = dormancy.days_away(now) if dormancy is not None else 0
        if waking:
            log.info("The visitor of case %s returned with a code after %d days", case.number, days)
            self.changed()
        else:
            log.info("The visitor of case %s came back with the same code (the last login did not finish)", case.number)
        key = self.keyer.storage(lookup, verifier) if code.keyed else None
        return Returned(case.visitor, case.room_id, case.number, days, key)

    async def _wrong(self, case: Case, dormant: bool) -> None:
        wrong = await self.stores.codes.wrong_word(case.id)
        log.info("A wrong word for the return code of case %s (%d of %d)", case.number, wrong, self.max_wrong)
        if wrong < self.max_wrong:
            return
        if dormant:
            await self.dormant.end(case, "code_wrong")
        else:
            await self.stores.codes.forget(case.id)  # returned already: the code dies, the case goes on

    async def _wake(self, case: Case, now: int) -> bool:
        """dormant → open, the code marked as used for a return; False when another return won."""
        try:
            async with self.stores.transaction():
                if not await self.stores.dormancy.wake(case.id, now):
                    return False
                if not await self.stores.codes.returned(case.id, now):
                    raise _Undo
                dormancy = await self.stores.dormancy.get(case.id)
                days = dormancy.days_away(now) if dormancy is not None else 0
                await self.stores.case_log.add(case.id, "returned", now, None, f"days={days}")
        except _Undo:
            return False
        return True


class _Undo(Exception):
    """Roll the transaction back: a concurrent change won."""
