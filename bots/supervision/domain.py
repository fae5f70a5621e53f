"""The rules of reading along: who may, in which chat, and what everyone is told. Runs in the
caller's transaction and only writes to the database (the reconciler invites and removes)."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from bots.counsellors.counting import count_action
from bots.db import Stores
from bots.db.case import Case
from bots.errors import UserError
from bots.ids import UserID
from bots.matrix.content import staff_text, visitor_message
from bots.texts import Language, as_language, text

SUPERVISOR_KEY = "nl.keerpunt.supervisor"


def notice(case: Case, supervisor: UserID, watching: bool) -> dict[str, Any]:
    """What the visitor reads (and the widget knows the member by) when a colleague starts or
    stops reading along."""
    key = "supervision.visitor.watching" if watching else "supervision.visitor.stopped"
    content = visitor_message(text(as_language(case.language), key), key)
    content[SUPERVISOR_KEY] = {"user": supervisor, "watching": watching}
    return content


class Supervising:
    def __init__(self, stores: Stores, language: Language, zone: ZoneInfo) -> None:
        self.stores = stores
        self.zone = zone
        self.watches = stores.queue.watch
        self.language = language

    async def may_supervise(self, user: UserID) -> None:
        member = await self.stores.staff.get(user)
        if member is None or member.role != "counsellor" or not member.supervisor:
            raise UserError("supervision.not_a_supervisor")

    async def watch(self, case: Case, supervisor: UserID, now: int) -> None:
        await self.may_supervise(supervisor)
        q = await self.stores.queue.workflow.get(case.id)
        if q is None or q.stage != "claimed" or case.state != "open" or case.room_id is None:
            raise UserError("supervision.not_live", number=case.number)
        if q.claimed_by == supervisor:
            raise UserError("supervision.own_chat", number=case.number)
        watch = await self.watches.get(case.id)
        if watch is not None and watch.watched_by is not None:
            if watch.watched_by == supervisor:
                raise UserError("supervision.already", number=case.number)
            raise UserError("supervision.taken", number=case.number, supervisor=watch.watched_by)
        # The visitor is told first; the invite waits until that message is out.
        txn = await self.stores.outbox.enqueue(case.room_id, "m.room.message", notice(case, supervisor, True), now)
        if not await self.watches.watch(case.id, supervisor, txn):
            raise UserError("supervision.taken", number=case.number, supervisor="")
        await self.stores.case_log.add(case.id, "watched", now, supervisor)
        await count_action(self.stores, self.zone, now, "watch")
        body = text(self.language, "supervision.staff.watching", supervisor=supervisor, number=case.number)
        await self.stores.posts.add(case.id, "thread", staff_text(body, mention=q.claimed_by), now)

    async def stop(self, case: Case, supervisor: UserID, now: int, *, left: bool = False) -> bool:
        """``supervisor`` stops reading along (``left``: they left the room themselves)."""
        if not await self.watches.unwatch(case.id, supervisor):
            return False
        if case.room_id is not None and case.state == "open":
            await self.stores.outbox.enqueue(case.room_id, "m.room.message", notice(case, supervisor, False), now)
        await self.stores.case_log.add(case.id, "unwatched", now, supervisor, "left" if left else None)
        await count_action(self.stores, self.zone, now, "unwatch")
        body = text(self.language, "supervision.staff.stopped", supervisor=supervisor, number=case.number)
        await self.stores.posts.add(case.id, "thread", staff_text(body), now)
        return True

    async def whisper(self, case: Case, supervisor: UserID, now: int) -> None:
        """The supervisor wrote in the card's thread: the counsellor is mentioned there (their
        words are not copied; they stay where they were written)."""
        q = await self.stores.queue.workflow.get(case.id)
        if q is None or q.claimed_by is None or q.claimed_by == supervisor:
            return
        body = text(self.language, "supervision.staff.whisper", supervisor=supervisor, counsellor=q.claimed_by)
        await self.stores.posts.add(case.id, "thread", staff_text(body, mention=q.claimed_by), now)
        await count_action(self.stores, self.zone, now, "whisper")
