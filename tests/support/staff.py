"""Counsellors (and visitors) as the queue tests see them: cross-signed nio clients that keep
every decrypted event of their rooms, so a test can wait for a card, its latest edit, a
thread post or a reply without losing what arrived in an earlier sync.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from nio import MegolmEvent, RoomSendResponse

from bots.db import Database
from bots.db.staff import StaffStore
from bots.db.system_room import SystemRoomStore
from bots.homeserver.account import load_session
from bots.homeserver.admin import SynapseAdmin
from bots.ids import UserID
from keerpunt.base.config import Config

from .matrix_clients import ClientFactory, TestUser
from .visitor import TIMELINE_FILTER, trust_strictly

Event = dict[str, Any]


class Observer:
    """One client's decrypted timeline per room, kept across syncs (edits are kept as events too)."""

    def __init__(self, user: TestUser) -> None:
        self.user = user
        self.timeline: dict[str, list[Event]] = {}
        self.undecryptable: dict[str, tuple[str, MegolmEvent]] = {}
        self.invites: list[str] = []
        # How long one /sync may wait on the server (ms): short for tests that wait for one
        # event, long for a client that only syncs in the background (bench/faults).
        self.poll_ms = 300

    @property
    def user_id(self) -> UserID:
        return self.user.user_id

    async def sync(self) -> None:
        client = self.user.client
        full = client.next_batch is None
        resp = await client.sync(timeout=self.poll_ms, sync_filter=TIMELINE_FILTER, full_state=full)
        rooms = getattr(resp, "rooms", None)
        if rooms is None:
            return
        for room_id in rooms.invite:
            if room_id not in self.invites:
                self.invites.append(room_id)
        for room_id, info in rooms.join.items():
            for event in info.timeline.events:
                if isinstance(event, MegolmEvent):
                    self.undecryptable[event.event_id] = (room_id, event)
                elif isinstance(event.source, dict):
                    self.timeline.setdefault(room_id, []).append(event.source)
        for event_id, (room_id, event) in list(self.undecryptable.items()):  # a key may come a batch later
            try:
                decrypted = client.decrypt_event(event)
            except Exception:  # noqa: S112 - still no key
                continue
            del self.undecryptable[event_id]
            if isinstance(decrypted.source, dict):
                self.timeline.setdefault(room_id, []).append(decrypted.source)

    async def wait_for(self, check: Callable[[], Any], *, within: float = 20.0, what: str = "an event") -> Any:
        deadline = time.monotonic() + within
        while True:
            found = check()
            if found:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.user_id} timed out waiting for {what}")
            await self.sync()

    def events(self, room_id: str, sender: str | None = None, event_type: str = "m.room.message") -> list[Event]:
        return [
            e
            for e in self.timeline.get(room_id, [])
            if e.get("type") == event_type and (sender is None or e.get("sender") == sender)
        ]

    def messages(self, room_id: str, sender: str | None = None) -> list[Event]:
        """Messages that are not edits of another one."""
        return [e for e in self.events(room_id, sender) if _relation(e) != "m.replace"]

    def bodies(self, room_id: str, sender: str | None = None) -> list[str]:
        return [str(e["content"].get("body", "")) for e in self.messages(room_id, sender)]

    async def wait_message(
        self,
        room_id: str,
        sender: str,
        check: Callable[[Event], bool],
        *,
        within: float = 20.0,
        what: str = "a message",
    ) -> Event:
        def find() -> Event | None:
            return next((e for e in self.messages(room_id, sender) if check(e)), None)

        found: Event = await self.wait_for(find, within=within, what=what)
        return found

    def card(self, room_id: str, number: str) -> Event | None:
        return next(
            (e for e in self.messages(room_id) if e["content"].get("nl.keerpunt.card", {}).get("case") == number), None
        )

    def latest_card_body(self, room_id: str, card_id: str) -> str:
        """What a client shows for the card: the last edit's ``m.new_content``, else the original."""
        body = next(str(e["content"]["body"]) for e in self.events(room_id) if e["event_id"] == card_id)
        for event in self.events(room_id):
            relates = event["content"].get("m.relates_to") or {}
            if relates.get("rel_type") == "m.replace" and relates.get("event_id") == card_id:
                body = str(event["content"]["m.new_content"]["body"])
        return body

    def in_thread(self, room_id: str, root: str) -> list[str]:
        return [
            str(e["content"]["body"])
            for e in self.messages(room_id)
            if (e["content"].get("m.relates_to") or {}).get("rel_type") == "m.thread"
            and e["content"]["m.relates_to"].get("event_id") == root
        ]

    def replies_to(self, room_id: str, event_id: str) -> list[str]:
        out = []
        for e in self.messages(room_id):
            in_reply = (e["content"].get("m.relates_to") or {}).get("m.in_reply_to") or {}
            if in_reply.get("event_id") == event_id:
                out.append(str(e["content"]["body"]))
        return out

    async def say(self, room_id: str, body: str, **extra: Any) -> str:
        return await self.send(room_id, "m.room.message", {"msgtype": "m.text", "body": body, **extra})

    async def send(self, room_id: str, event_type: str, content: dict[str, Any]) -> str:
        await trust_strictly(self.user, room_id)
        resp = await self.user.client.room_send(room_id, event_type, content)
        assert isinstance(resp, RoomSendResponse), resp
        return str(resp.event_id)

    async def join(self, room_id: str) -> None:
        resp = await self.user.client.join(room_id)
        assert getattr(resp, "room_id", None) == room_id, resp
        await self.wait_for(lambda: room_id in self.user.client.rooms, what="the joined room")


def _relation(event: Event) -> str | None:
    relates = event.get("content", {}).get("m.relates_to") or {}
    return relates.get("rel_type") if isinstance(relates, dict) else None


async def bot_token(config: Config) -> str:
    session = load_session(config)
    assert session is not None
    return session.access_token


async def add_counsellor(
    clients: ClientFactory, config: Config, db: Database, name: str = "counsellor", role: str = "counsellor"
) -> Observer:
    """A cross-signed staff member with ``role``, in the staff rooms of that role (as `keerpunt staff add`)."""
    user = await clients.user(name, cross_sign=True)
    await StaffStore(db).add(user.user_id, role)
    queue_room = await SystemRoomStore(db).get("queue")
    assert queue_room is not None
    admin: SynapseAdmin = await clients.admin(await bot_token(config))
    if role == "counsellor":
        await admin.force_join(queue_room, user.user_id)
    observer = Observer(user)
    if role == "counsellor":
        await observer.wait_for(lambda: queue_room in user.client.rooms, what="the queue room")
    return observer


async def add_outreach_worker(
    clients: ClientFactory, config: Config, db: Database, name: str = "worker", organisation: str | None = None
) -> Observer:
    """A cross-signed outreach worker (of ``organisation``), in the outreach room."""
    observer = await add_counsellor(clients, config, db, name, role="outreach")
    await StaffStore(db).add(observer.user_id, "outreach", None, organisation)
    room = await SystemRoomStore(db).get("outreach")
    assert room is not None
    admin: SynapseAdmin = await clients.admin(await bot_token(config))
    await admin.force_join(room, observer.user_id)
    await observer.wait_for(lambda: room in observer.user.client.rooms, what="the outreach room")
    return observer


async def stranger_in_queue_room(clients: ClientFactory, config: Config, db: Database) -> Observer:
    """A cross-signed user who is not staff but was put into the queue room anyway."""
    user = await clients.user("stranger", cross_sign=True)
    queue_room = await SystemRoomStore(db).get("queue")
    assert queue_room is not None
    admin = await clients.admin(await bot_token(config))
    await admin.force_join(queue_room, user.user_id)
    observer = Observer(user)
    await observer.wait_for(lambda: queue_room in user.client.rooms, what="the queue room")
    return observer
