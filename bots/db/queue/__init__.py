"""The queue's table (``queue_case``, one row per greeted case, beside ``visitor_case``) and its
triage answers, read and written by job: each store owns some columns and has one reader.

- ``workflow``: the stage and who holds the case (the decided state; compare-and-set);
- ``triage``: how far the visitor got in the questions, and their answers;
- ``cards``: the card in the queue room, as applied;
- ``access``: who has the case room and whether it is in the staff Space, as applied;
- ``notices``: reminders, places told, the closing notice;
- ``due``: which cases the timers and reconcilers must act on (reads only);
- ``watch``: who reads along in the chat (open supervision), decided and applied.

The columns that record what has been *applied* in Synapse (the card's, ``room_counsellor``,
``space_linked``) are made to match the decided state by the queue's reconcilers.
"""

from __future__ import annotations

from dataclasses import dataclass

from mautrix.util.async_db import Database

from bots.db.queue.access import AccessStore
from bots.db.queue.cards import CardStore
from bots.db.queue.due import DueStore
from bots.db.queue.notices import NoticeStore
from bots.db.queue.triage import TriageStore
from bots.db.queue.watch import WatchStore
from bots.db.queue.workflow import WorkflowStore


@dataclass(frozen=True)
class QueueStores:
    workflow: WorkflowStore
    triage: TriageStore
    cards: CardStore
    access: AccessStore
    notices: NoticeStore
    due: DueStore
    watch: WatchStore

    @classmethod
    def over(cls, db: Database) -> QueueStores:
        return cls(
            WorkflowStore(db),
            TriageStore(db),
            CardStore(db),
            AccessStore(db),
            NoticeStore(db),
            DueStore(db),
            WatchStore(db),
        )

    async def forget_case(self, case_id: str) -> None:
        """Delete the case's queue row and triage answers: part of its purge."""
        await self.triage.forget_case(case_id)
        await self.workflow.forget_case(case_id)
