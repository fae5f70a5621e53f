"""Spare visitor accounts: registered ahead of time, handed to the next visitor who arrives.

Shared-secret registration makes Synapse hash a password with bcrypt — the largest part of a
session start (the benchmark's "register" line). Accounts don't depend on the visitor, so a
few are made in advance: a session start then only needs its room.

Each spare is a ``visitor_case`` row in state ``spare`` written *before* the account is
registered; its access token lives in memory only. Taking one turns the row into a
``creating`` case (see ``SessionManager``). After a restart the tokens are gone, so the
repair at start deactivates every spare left over, like any half-created case.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bots.clock import Clock, millis
from bots.db.case import CaseStore
from bots.homeserver.admin import Registration, SynapseAdmin
from bots.ids import VISITOR_PREFIX, UserID

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Spare:
    case_id: str
    registration: Registration
    display_name: str


Undo = Callable[[str, UserID], Awaitable[object]]


def visitor_localpart() -> str:
    """128 random bits; no time, no address, nothing about the visitor."""
    return f"{VISITOR_PREFIX}{secrets.token_hex(16)}"


class SpareAccounts:
    def __init__(
        self,
        admin: SynapseAdmin,
        cases: CaseStore,
        clock: Clock,
        *,
        target: int,
        server_name: str,
        display_name: str,
        device_name: str,
        slots: asyncio.Semaphore,
        undo: Undo,
    ) -> None:
        self.admin = admin
        self.cases = cases
        self.clock = clock
        self.target = max(0, target)
        self.server_name = server_name
        self.display_name = display_name
        self.device_name = device_name
        self.slots = slots
        self.undo = undo
        self._ready: deque[Spare] = deque()
        self._wanted = asyncio.Event()

    def __len__(self) -> int:
        return len(self._ready)

    @property
    def ready(self) -> tuple[Spare, ...]:
        return tuple(self._ready)

    @property
    def full(self) -> bool:
        return len(self._ready) >= self.target

    def take(self) -> Spare | None:
        """The oldest spare account, or None when there is none ready. Call ``refill`` after."""
        return self._ready.popleft() if self._ready else None

    def refill(self) -> None:
        """Top the spares up again — after a start has its room, not while Synapse makes it."""
        self._wanted.set()

    async def step(self) -> None:
        """One round for ``backoff_loop``: fill up, then wait until one is taken."""
        while not self.full:
            await self._make_one()
        self._wanted.clear()
        await self._wanted.wait()

    async def _make_one(self) -> None:
        case_id = secrets.token_hex(12)
        localpart = visitor_localpart()
        visitor = UserID(f"@{localpart}:{self.server_name}")
        await self.cases.insert_spare(case_id, visitor, millis(self.clock))
        try:
            async with self.slots:  # shares Synapse's capacity with the session starts
                reg = await self.admin.register(
                    localpart, secrets.token_urlsafe(32), displayname=self.display_name, device_name=self.device_name
                )
        except asyncio.CancelledError:
            raise  # perhaps registered; the row stays 'spare' for the repair at the next start
        except Exception:
            await asyncio.shield(self.undo(case_id, visitor))
            raise
        self._ready.append(Spare(case_id, reg, self.display_name))
