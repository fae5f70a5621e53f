"""What the visitor wrote before a counsellor was there, relayed to the counsellor who joins
(docs/write-later.md "Reading the message").

A case room is ``history_visibility: joined`` and its Megolm keys go only to the members of the
moment: a counsellor who claims a message left to be answered later joins a room whose earlier
events they can neither see nor decrypt. The bot was there all along. When the case's holder
joins the room of a case with such a message, the bot reads the visitor's own messages from the
room (each one decrypted with its keys and sent by a cross-signed device of the visitor, as the
router requires of a live message) and posts them once, as one notice in the same room, to the
members of that moment: the counsellor, and the visitor's devices. Nothing of it is stored but
the outbox row until it is sent (its content is then cleared). Triage answers are on the card
already and are left out.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from nio import MegolmEvent, MessageDirection, RoomMessagesError

from bots.clock import Clock, millis
from bots.concern import Reconciler
from bots.crypto.ports import Trust
from bots.db import Stores
from bots.db.case import Case
from bots.matrix.ports import MatrixClient
from bots.texts import Language, as_language, text
from bots.turn import Membership, Turn

log = logging.getLogger(__name__)

# At most this many of the visitor's messages, and this much text, newest kept.
MAX_MESSAGES = 50
MAX_CHARS = 20_000
PAGES = 10
PAGE = 100
REPLY_KEY = "nl.keerpunt.reply"


class Relay(Reconciler):
    name = "queue relay"
    title = "Relaying a message left for later"

    def __init__(
        self,
        stores: Stores,
        client: MatrixClient,
        trust: Trust,
        staff_language: Language,
        clock: Clock,
        to_send: Callable[[], None],
    ) -> None:
        super().__init__()
        self.stores = stores
        self.client = client
        self.trust = trust
        self.staff_language = staff_language
        self.clock = clock
        self.to_send = to_send

    async def on_member(self, turn: Turn, change: Membership) -> bool:
        """The holder of a case with a message left for later joined its room: a relay is owed."""
        case = turn.where.case_room
        if case is None or change.change != "join" or change.user == case.visitor:
            return False
        q = await self.stores.queue.workflow.get(case.id)
        if q is None or q.claimed_by != change.user:
            return False
        return await self.stores.later.owe_relay(case.id, change.user)

    async def step(self) -> bool:
        for case_id, holder in await self.stores.later.relays_owed():
            case = await self.stores.cases.get(case_id)
            if case is None or case.room_id is None or case.visitor is None:
                await self.stores.later.relayed(case_id, holder)
                continue
            lines = await self.visitor_lines(case)
            now = millis(self.clock)
            async with self.stores.transaction():
                if not await self.stores.later.relayed(case_id, holder):
                    continue
                if lines:
                    body = text(self.staff_language, "queue.staff.relay", lines="\n\n".join(lines))
                    if case.language != self.staff_language:  # the visitor reads it too after a return
                        body += "\n\n" + text(as_language(case.language), "queue.visitor.relay_note")
                    content = {"msgtype": "m.notice", "body": body, "nl.keerpunt.message": "queue.relay"}
                    await self.stores.outbox.enqueue(case.room_id, "m.room.message", content, now)
            log.info("Relayed %d earlier message(s) of case %s to its counsellor", len(lines), case.number)
            self.to_send()
        return False

    async def visitor_lines(self, case: Case) -> list[str]:
        """The visitor's own text messages in the room, oldest first (bounded)."""
        assert case.room_id is not None
        found: list[str] = []
        start = self.client.next_batch or ""
        for _ in range(PAGES):
            page: Any = await self.client.room_messages(
                case.room_id, start=start, direction=MessageDirection.back, limit=PAGE
            )
            if isinstance(page, RoomMessagesError):
                raise RuntimeError(f"reading the case room failed: {page.message}")
            for event in page.chunk:
                body = await self._visitor_text(case, event)
                if body is not None:
                    found.append(body)
            if not page.chunk or not page.end or page.end == start or len(found) >= MAX_MESSAGES:
                break
            start = page.end
        found = found[:MAX_MESSAGES]
        kept: list[str] = []
        total = 0
        for body in found:  # newest first here
            total += len(body)
            if total > MAX_CHARS:
                break
            kept.append(body)
        kept.reverse()
        return kept

    async def _visitor_text(self, case: Case, event: Any) -> str | None:
        if getattr(event, "sender", None) != case.visitor:
            return None
        if isinstance(event, MegolmEvent):
            try:
                event = self.client.decrypt_event(event)
            except Exception:
                return None
        elif not getattr(event, "decrypted", False):
            return None  # never an unencrypted message
        if not self.trust.was_sent_by_trusted_device(self.client, case.room_id or "", event):
            return None
        source = event.source if isinstance(event.source, dict) else {}
        content = source.get("content") or {}
        if source.get("type") != "m.room.message" or content.get("msgtype") != "m.text" or REPLY_KEY in content:
            return None
        body = content.get("body")
        return body if isinstance(body, str) and body.strip() else None
