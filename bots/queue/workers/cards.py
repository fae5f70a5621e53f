"""The card of each case in the queue room, and what is posted under it.

- the card is posted once: its outbox transaction ID is stored with the case in the same
  transaction, so never twice; its event ID is learned once it was sent; it is edited
  (``m.replace``) whenever its version moved;
- staff posts (summary, notes, reminders) go to the outbox under the card, once it exists (a
  case that will never have a card drops them);
- a card posted again (a counsellor's new session) has its old one redacted once it is up.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bots.clock import Clock, millis
from bots.concern import Reconciler
from bots.db import Stores
from bots.db.case import Case
from bots.db.queue.cards import CardState
from bots.ids import EventID, RoomID
from bots.matrix.content import card_content, card_edit, under_card
from bots.queue.cards import render_card
from bots.queue.domain import QueueDomain

log = logging.getLogger(__name__)


class CardReconciler(Reconciler):
    name = "queue cards"
    title = "The queue's cards"

    def __init__(
        self,
        stores: Stores,
        domain: QueueDomain,
        zone: ZoneInfo,
        queue_room: RoomID,
        redact: Callable[[RoomID, EventID], Awaitable[None]],
        clock: Clock,
        to_send: Callable[[], None],
    ) -> None:
        super().__init__()
        self.stores = stores
        self.cards = stores.queue.cards
        self.domain = domain
        self.zone = zone
        self.queue_room = queue_room
        self.redact = redact
        self.clock = clock
        self.to_send = to_send

    async def step(self) -> bool:
        now = millis(self.clock)
        busy = await self._cards(now)
        busy = await self._posts(now) or busy
        await self._replaced()
        return busy

    async def _case(self, case_id: str) -> Case:
        case = await self.stores.cases.get(case_id)
        assert case is not None
        return case

    async def _cards(self, now: int) -> bool:
        busy = False
        outbox = self.stores.outbox
        for card in await self.cards.to_show():
            if card.txn is None:
                if card.waiting_since is None:  # never in the queue: no card
                    await self.cards.edited(card.case_id, card.version)
                    continue
                case = await self._case(card.case_id)
                content = card_content(await self._render(case, now), case.number, card.stage)
                async with self.stores.transaction():
                    txn = await outbox.enqueue(self.queue_room, "m.room.message", content, now, case_id=card.case_id)
                    await self.cards.enqueued(card.case_id, txn, card.version)
                self.to_send()
                busy = True
            elif card.event_id is None:
                busy = await self._card_sent(card) or busy
            elif card.version > card.shown:
                case = await self._case(card.case_id)
                body = await self._render(case, now)
                async with self.stores.transaction():
                    edit = card_edit(body, case.number, card.stage, card.event_id)
                    await outbox.enqueue(self.queue_room, "m.room.message", edit, now, case_id=card.case_id)
                    await self.cards.edited(card.case_id, card.version)
                self.to_send()
        return busy

    async def _card_sent(self, card: CardState) -> bool:
        """Learn the card's event ID from the outbox; True while it is still on its way."""
        assert card.txn is not None
        message = await self.stores.outbox.get(card.txn)
        if message is not None and message.state == "sent" and message.event_id:
            await self.cards.sent(card.case_id, message.event_id)
            self.wake()  # edits and posts can follow now
            return False
        if message is None or message.state == "failed":
            log.error("The card of a case could not be posted in the queue room; check the bot's membership there")
            return False
        return True

    async def _render(self, case: Case, now: int) -> str:
        q = await self.stores.queue.workflow.get(case.id)
        assert q is not None
        facts = await self.domain.facts(case, q)
        moment = datetime.fromtimestamp(now / 1000, tz=UTC)
        return render_card(facts, self.domain.definition, self.domain.staff_language, self.zone, moment)

    async def _posts(self, now: int) -> bool:
        busy = False
        cards: dict[str, CardState | None] = {}
        for post in await self.stores.posts.waiting():
            if post.case_id not in cards:
                cards[post.case_id] = await self.cards.get(post.case_id)
            card = cards[post.case_id]
            if card is None or post.content is None:
                continue
            if card.event_id is None:
                if card.never:
                    await self.stores.posts.handed_over(post.seq, "dropped")  # there will never be a card
                else:
                    busy = True
                continue
            content = under_card(post.content, post.relation, card.event_id)
            async with self.stores.transaction():
                txn = await self.stores.outbox.enqueue(
                    self.queue_room, "m.room.message", content, now, case_id=card.case_id
                )
                await self.stores.posts.handed_over(post.seq, txn)
            self.to_send()
        return busy

    async def _replaced(self) -> None:
        """A card posted again (for a counsellor's new session): the one it replaces goes."""
        for case_id, old in await self.cards.replaced():
            await self.redact(self.queue_room, old)
            await self.cards.replaced_redacted(case_id)
