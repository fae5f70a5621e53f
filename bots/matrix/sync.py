"""The bot's sync loop: every event exactly once, nothing lost across crashes.

One step is: ``/sync`` from the last *persisted* token → matrix-nio decrypts the to-device
events (storing room keys) and the timeline → each room event goes to the handler in order
(a limited timeline is first filled in with ``/messages`` back to the previous token) →
undecryptable events wait in the database → key maintenance (upload, query, claim, queued
to-device messages) → only then the new token is persisted. If anything fails the step is
retried from the old token; handlers are idempotent through the handled-events record.

The first sync after a start asks for the full state, because nio keeps rooms in memory
only (the crypto store survives restarts, the room list does not).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Protocol

from nio import (
    Event,
    KeysClaimError,
    KeysQueryError,
    KeysUploadError,
    MessageDirection,
    RoomMessagesError,
    SyncError,
    SyncResponse,
)

from bots.clock import Clock
from bots.crypto.trust import TrustPolicy
from bots.db.bot_state import SYNC_TOKEN, BotStateStore
from bots.ids import RoomID, UserID
from bots.matrix.client import BotClient
from bots.matrix.fallback import FallbackKeys

log = logging.getLogger(__name__)

# Events per room per sync; more than this makes the timeline "limited" and is paged in.
TIMELINE_LIMIT = 50
SYNC_FILTER: dict[str, Any] = {
    "presence": {"not_types": ["*"]},
    "account_data": {"not_types": ["*"]},
    "room": {
        "timeline": {"limit": TIMELINE_LIMIT},
        "state": {"lazy_load_members": False},
        "ephemeral": {"not_types": ["*"]},
        "account_data": {"not_types": ["*"]},
    },
}
BACKFILL_PAGE = 100
BACKFILL_MAX_PAGES = 100


class SyncFailed(Exception):
    """A sync step failed; the loop backs off and retries from the persisted token."""


class BatchHandler(Protocol):
    async def on_room_event(self, room_id: RoomID, event: Event) -> None: ...

    async def after_batch(self) -> None: ...

    async def on_devices_changed(self, users: list[UserID]) -> None: ...


class SyncLoop:
    def __init__(
        self,
        client: BotClient,
        state: BotStateStore,
        handler: BatchHandler,
        trust: TrustPolicy,
        clock: Clock,
        *,
        timeout_ms: int = 30_000,
    ) -> None:
        self.client = client
        self.state = state
        self.handler = handler
        self.trust = trust
        self.timeout_ms = timeout_ms
        self.fallback = FallbackKeys(client, state, clock)
        self.token: str | None = None
        self._full_state_done = False
        self.ready = asyncio.Event()

    async def load(self) -> None:
        self.token = await self.state.get(SYNC_TOKEN)

    async def step(self) -> None:
        """One sync and its complete handling. Raises on any failure (nothing is persisted)."""
        first = not self._full_state_done
        # nio skips a response whose next_batch equals its own; keep its view on our token.
        self.client.next_batch = None if first else self.token
        resp = await self.client.sync(
            timeout=0 if first else self.timeout_ms,
            sync_filter=SYNC_FILTER,
            since=self.token,
            full_state=True if first else None,
        )
        if isinstance(resp, SyncError):
            raise SyncFailed(f"sync failed: {resp.status_code} {resp.message}")
        await self._handle(resp)
        await self.state.put(SYNC_TOKEN, resp.next_batch)
        self.token = resp.next_batch
        self._full_state_done = True
        self.ready.set()

    async def _handle(self, resp: SyncResponse) -> None:
        self.trust.forget(resp.device_list.changed)
        self.trust.drop(resp.device_list.left)
        for room_id, info in resp.rooms.join.items():
            events = list(info.timeline.events)
            if self._gap(info.timeline) and self.token:
                events = await self._backfill(RoomID(room_id), info.timeline.prev_batch, self.token) + events
            for event in events:
                await self.handler.on_room_event(RoomID(room_id), event)
        await self.handler.after_batch()
        changed = [UserID(user) for user in (*resp.device_list.changed, *resp.device_list.left)]
        if changed:
            await self.handler.on_devices_changed(changed)
        await self._maintain_keys()

    @staticmethod
    def _gap(timeline: Any) -> bool:
        """A limited timeline left events out, unless it starts at the room's creation."""
        if not timeline.limited or not timeline.prev_batch:
            return False
        return not any(getattr(e, "source", {}).get("type") == "m.room.create" for e in timeline.events)

    async def _backfill(self, room_id: RoomID, prev_batch: str, since: str) -> list[Event]:
        """Events between ``since`` and the start of a limited timeline, oldest first."""
        collected: list[Event] = []
        start = prev_batch
        for _ in range(BACKFILL_MAX_PAGES):
            page = await self.client.room_messages(
                room_id, start=start, end=since, direction=MessageDirection.back, limit=BACKFILL_PAGE
            )
            if isinstance(page, RoomMessagesError):
                raise SyncFailed(f"paging a limited timeline failed: {page.message}")
            collected.extend(page.chunk)
            if not page.chunk or not page.end or page.end == start:
                break
            start = page.end
        else:
            log.warning("Stopped paging a limited timeline after %d pages", BACKFILL_MAX_PAGES)
        log.info("Filled in %d events of a limited timeline", len(collected))
        collected.reverse()
        return collected

    async def _maintain_keys(self) -> None:
        client = self.client
        if client.should_upload_keys:
            up = await client.keys_upload()
            if isinstance(up, KeysUploadError):
                raise SyncFailed(f"keys upload failed: {up.message}")
        if client.should_query_keys:
            query = await client.keys_query()
            if isinstance(query, KeysQueryError):
                raise SyncFailed(f"keys query failed: {query.message}")
        if client.should_claim_keys:
            claim = await client.keys_claim(client.get_users_for_key_claiming())
            if isinstance(claim, KeysClaimError):
                raise SyncFailed(f"keys claim failed: {claim.message}")
        await self.fallback.maintain()
        if client.outgoing_to_device_messages:
            await client.send_to_device_messages()
