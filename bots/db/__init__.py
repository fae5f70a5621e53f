"""The bots' own database (mautrix async_db: SQLite by default, PostgreSQL by URL).

One module per table, each a record with ``from_row`` and a store of plain SQL. ``Stores``
holds one of each over the same database and opens the transactions they share: the unit of
work every handler, domain and worker is given instead of a handful of stores one by one.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any, cast

from mautrix.util.async_db import Database
from mautrix.util.logging import TraceLogger
from yarl import URL

from bots.db.bot_state import BotStateStore
from bots.db.case import CaseStore
from bots.db.case_activity import ActivityStore
from bots.db.case_log import CaseLogStore
from bots.db.case_trace import CaseTraceStore
from bots.db.dormancy import DormancyStore
from bots.db.feedback import FeedbackTicketStore
from bots.db.handled_event import HandledEventStore
from bots.db.handover import HandoverStore
from bots.db.later import LaterStore
from bots.db.outbox import OutboxStore
from bots.db.outreach_invite import InviteStore
from bots.db.pending_event import PendingEventStore
from bots.db.pinned_identity import PinnedIdentityStore
from bots.db.queue import QueueStores
from bots.db.ready_session import ReadySessionStore
from bots.db.return_code import ReturnCodeStore
from bots.db.staff import StaffStore
from bots.db.staff_post import StaffPostStore
from bots.db.stats import StatStore
from bots.db.system_room import SystemRoomStore
from bots.db.upgrade import upgrade_table
from keerpunt.base.config import Config, ConfigError, read_secret


def database_url(config: Config) -> str:
    url = config.bots.database
    if url.startswith("sqlite:"):
        path = config.path(url.removeprefix("sqlite:").removeprefix("//"))
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        return f"sqlite:///{path}"
    if url.startswith(("postgresql://", "postgres://")):
        if URL(url).password:
            raise ConfigError("bots.database", "no password in the URL; use bots.database_password_file")
        return url
    raise ConfigError("bots.database", "expected sqlite:<path> or a postgresql:// URL")


def create_database(config: Config, url: str | None = None) -> Database:
    db_args: dict[str, object] = {}
    target = url or database_url(config)
    if target.startswith("postgres") and config.bots.database_password_file:
        db_args["password"] = read_secret(config, config.bots.database_password_file)
    if target.startswith("postgres"):
        db_args.update(min_size=1, max_size=10)
    log = logging.getLogger("keerpunt.db")
    if not isinstance(log, TraceLogger):  # created before mautrix set its logger class
        log = TraceLogger("keerpunt.db")
    return Database.create(target, upgrade_table=upgrade_table, db_args=db_args, log=log)


@asynccontextmanager
async def transaction(db: Database) -> AsyncIterator[None]:
    """One transaction; store calls made inside it (same task) use its connection."""
    # mautrix declares acquire() as a coroutine; it is an async context manager.
    acquire = cast(AbstractAsyncContextManager[Any], db.acquire())
    async with acquire as conn, conn.transaction():
        yield


@dataclass(frozen=True)
class Stores:
    """Every store over one database (as Synapse's ``DataStore`` composes its stores, but passed
    explicitly). Store calls made inside ``transaction()`` (same task) share its connection."""

    db: Database
    bot_state: BotStateStore
    cases: CaseStore
    activity: ActivityStore
    dormancy: DormancyStore
    later: LaterStore
    case_log: CaseLogStore
    traces: CaseTraceStore
    handled: HandledEventStore
    handovers: HandoverStore
    invites: InviteStore
    outbox: OutboxStore
    pending: PendingEventStore
    pins: PinnedIdentityStore
    queue: QueueStores
    ready: ReadySessionStore
    codes: ReturnCodeStore
    staff: StaffStore
    posts: StaffPostStore
    system_rooms: SystemRoomStore
    stats: StatStore
    feedback: FeedbackTicketStore

    @classmethod
    def over(cls, db: Database) -> Stores:
        return cls(
            db=db,
            bot_state=BotStateStore(db),
            cases=CaseStore(db),
            activity=ActivityStore(db),
            dormancy=DormancyStore(db),
            later=LaterStore(db),
            case_log=CaseLogStore(db),
            traces=CaseTraceStore(db),
            handled=HandledEventStore(db),
            handovers=HandoverStore(db),
            invites=InviteStore(db),
            outbox=OutboxStore(db),
            pending=PendingEventStore(db),
            pins=PinnedIdentityStore(db),
            queue=QueueStores.over(db),
            ready=ReadySessionStore(db),
            codes=ReturnCodeStore(db),
            staff=StaffStore(db),
            posts=StaffPostStore(db),
            system_rooms=SystemRoomStore(db),
            stats=StatStore(db),
            feedback=FeedbackTicketStore(db),
        )

    def transaction(self) -> AbstractAsyncContextManager[None]:
        return transaction(self.db)


__all__ = ["Database", "Stores", "create_database", "database_url", "transaction", "upgrade_table"]
