"""A counsellor's new session reads the queue: the live cards are posted again for it.

Element asks only the user's own devices for keys it lacks, so a new cross-signed device cannot
read a card sent before it existed. The cards come again (the old ones redacted once the new
ones are up) when:

- a counsellor whose devices the cards reached gets another cross-signed device (sync tells of
  the device list change: ``devices_changed``);
- a counsellor's identity is pinned: their first ever (a new counsellor's first device) or the
  first after ``keerpunt staff reset-identity``. The trust policy says so while it looks up their
  keys (``identity_pinned``: only recorded then, as ``cards_owed``); the cards follow as soon as
  a device of that identity is cross-signed, from sync or from this worker's own look.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from bots.concern import Reconciler
from bots.crypto.ports import Trust
from bots.db import Stores
from bots.ids import UserID

log = logging.getLogger(__name__)

CLAIM_ROLES = frozenset({"counsellor"})


class NewSessions(Reconciler):
    name = "queue new sessions"
    title = "The cards for a counsellor's new session"
    idle = 60.0

    def __init__(self, stores: Stores, trust: Trust, changed: Callable[[], None]) -> None:
        super().__init__()
        self.stores = stores
        self.trust = trust
        self.changed = changed  # the card worker posts the cards again

    async def identity_pinned(self, user: UserID) -> None:
        """Called inside whatever looked up the keys: record only, the worker does the rest."""
        if await self.stores.staff.owe_cards(user):
            self.wake()

    async def step(self) -> bool:
        owed = await self.stores.staff.cards_owed()
        if owed:
            await self.devices_changed(owed)
        return False

    async def devices_changed(self, users: list[UserID]) -> None:
        repost = False
        for user in users:
            member = await self.stores.staff.get(user)
            if member is None or member.role not in CLAIM_ROLES:
                continue
            now = await self.trust.cross_signed_devices(user)
            known = await self.stores.staff.devices(user)
            if now != known:
                await self.stores.staff.set_devices(user, now)
            owed = await self.stores.staff.owes_cards(user)
            if (known and now - known) or (owed and now):
                repost = True
                if owed:
                    await self.stores.staff.cards_paid(user)
        if repost:
            async with self.stores.transaction():
                count = await self.stores.queue.cards.repost_live()
            log.info("A counsellor's new session: posting %d live card(s) again", count)
            self.changed()
