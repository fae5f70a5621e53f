"""The conversations: visitors that start, go through triage, are claimed and talk with a
counsellor at a human pace, while processes die under them.

Every client is a cross-signed nio client of tests/support that syncs in the background (a
long poll, errors retried as a client would) and sends as the widget does: one transaction ID
per message, the same one on every retry, so a send the server took before a crash is not
taken twice. The ledger counts what each side decrypted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import re
import secrets
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import aiohttp
from nio import ForwardedRoomKeyEvent, OlmEvent, RoomKeyEvent, RoomSendResponse

from tests.support.bots import ORIGIN
from tests.support.matrix_clients import ClientFactory
from tests.support.staff import Observer
from tests.support.triage import Visitor, answer_all, start_visitor
from tests.support.visitor import trust_strictly

from .infra import Stack
from .ledger import BENCH_KEY, Ledger

log = logging.getLogger("bench.faults")
ANSWERS = {"audience": "self", "danger": "no", "topic": "debts", "region": "utrecht"}
SEND_FOR = 180.0  # seconds a client keeps retrying one message before it shows it as failed
START_TRIES = 3  # a visitor whose start failed tries again (the widget's "try again" button)


async def until(check: Callable[[], Any], within: float, what: str) -> Any:
    """Poll state a background sync keeps up to date."""
    deadline = time.monotonic() + within
    while not (found := check()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await asyncio.sleep(0.2)
    return found


class Syncing:
    """An observer whose client syncs in the background until stopped; errors are retried."""

    def __init__(self, observer: Observer, side: str, ledger: Ledger) -> None:
        self.observer = observer
        self.side = side
        self.ledger = ledger
        self.errors = 0
        observer.poll_ms = 10_000
        self.keys_for: set[str] = set()  # Megolm session IDs whose room key reached this client
        self.olm_failed = 0  # encrypted to-device messages this client could not decrypt
        observer.user.client.add_to_device_callback(self._room_key, (RoomKeyEvent, ForwardedRoomKeyEvent, OlmEvent))
        self.task = asyncio.ensure_future(self._loop())

    def _room_key(self, event: Any) -> None:
        if isinstance(event, OlmEvent):
            self.olm_failed += 1
            log.warning("%s could not decrypt an Olm message from %s", self.observer.user_id, event.sender)
        else:
            self.keys_for.add(str(event.session_id))

    async def _loop(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self.observer.sync(), 40)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a fault: the client waits a moment and tries again
                self.errors += 1
                log.warning(
                    "%s sync: %r token=%s", self.observer.user_id, exc, bool(self.observer.user.client.access_token)
                )
                await asyncio.sleep(1)
            self.ledger.read(self.observer, self.side)

    async def stop(self) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task

    async def say(self, room: str, text: str) -> None:
        """One bench message: the same transaction ID on every try, until the server takes it."""
        sent = self.ledger.new_id(self.side, room)
        content = {"msgtype": "m.text", "body": f"{text} [{sent.id}]", BENCH_KEY: sent.id}
        txn = secrets.token_hex(8)
        client = self.observer.user.client
        deadline = time.monotonic() + SEND_FOR
        while time.monotonic() < deadline:
            try:
                await asyncio.wait_for(trust_strictly(self.observer.user, room), 30)
                resp = await asyncio.wait_for(client.room_send(room, "m.room.message", content, tx_id=txn), 30)
                if isinstance(resp, RoomSendResponse):
                    sent.accepted = True
                    sent.window = self.ledger.window.name  # the window the server took it in
                    return
                log.warning("%s send %s: %r token=%s", self.side, sent.id, resp, bool(client.access_token))
            except Exception as exc:
                log.warning("%s send %s: %r token=%s", self.side, sent.id, exc, bool(client.access_token))
            await asyncio.sleep(2)


class Counsellor:
    def __init__(self, syncing: Syncing, queue_room: str) -> None:
        self.sync = syncing
        self.queue_room = queue_room
        self.lock = asyncio.Lock()  # one claim at a time, as a person would

    async def claim(self, number: str, room: str) -> None:
        observer = self.sync.observer
        client = observer.user.client
        await until(lambda: observer.card(self.queue_room, number), 120, f"the card of {number}")
        async with self.lock:
            deadline = time.monotonic() + 120
            while room not in client.rooms:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"no invite to {number}")
                if room not in client.invited_rooms:
                    with contextlib.suppress(Exception):
                        await observer.say(self.queue_room, f"!claim {number}")
                    with contextlib.suppress(TimeoutError):
                        await until(lambda: room in client.invited_rooms or room in client.rooms, 30, "the invite")
                    continue
                with contextlib.suppress(Exception):
                    await client.join(room)
                with contextlib.suppress(TimeoutError):
                    await until(lambda: room in client.rooms, 20, "the joined room")


async def add_counsellor(stack: Stack, clients: ClientFactory, ledger: Ledger, index: int) -> Counsellor:
    """Counsellor 0 is the dev stack's demo account; the others are added as `keerpunt staff add` does."""
    info = stack.dev.stack()
    if index == 0:
        account = info["accounts"]["counsellors"][0]
        user_id, password = account["user_id"], account["password"]
    else:
        from keerpunt.devworkers import EFFECTIVE_CONFIG

        effective = str(stack.dev.data_dir / EFFECTIVE_CONFIG)
        added = stack.dev.run("--config", effective, "staff", "add", f"Bench {index}", "--role", "counsellor")
        assert added.returncode == 0, added.stderr
        found = re.search(r"@[a-z0-9._=-]+:[a-z0-9.:-]+", added.stdout)
        assert found is not None, added.stdout
        user_id, password = found[0], added.stdout.strip().splitlines()[-1].split(": ")[-1]
    # From a loopback address of its own: the dev stack has production `rc_login` (a few logins per
    # address, then one in five minutes), and 50 visitors need 25 counsellors.
    user = await clients.login(user_id, password, info["homeserver"], source=f"127.0.3.{index + 1}")
    await clients.cross_sign(user)
    observer = Observer(user)
    syncing = Syncing(observer, "counsellor", ledger)
    queue_room = info["queue_room"]
    await until(lambda: queue_room in user.client.rooms or queue_room in user.client.invited_rooms, 90, "the queue")
    if queue_room not in user.client.rooms:
        await user.client.join(queue_room)
        await until(lambda: queue_room in user.client.rooms, 30, "the queue room")
    return Counsellor(syncing, queue_room)


class Conversation:
    """One visitor from the first click to the end: start (retried), triage, claim, talk."""

    def __init__(self, stack: Stack, clients: ClientFactory, ledger: Ledger, counsellor: Counsellor) -> None:
        self.stack = stack
        self.clients = clients
        self.ledger = ledger
        self.counsellor = counsellor
        self.visitor: Visitor | None = None
        self.sync: Syncing | None = None

    async def start(self) -> bool:
        info = self.stack.dev.stack()
        bot = f"@keerpunt:{info['server_name']}"
        window = self.ledger.window
        window.starts += 1
        for attempt in range(START_TRIES):
            try:
                visitor = await start_visitor(self.clients, info["api"], bot, within=90)
                await answer_all(visitor, ANSWERS, within=90)
                await self.counsellor.claim(visitor.number, visitor.room)
                await visitor.observer.wait_for(partial(self._joined, visitor), within=60, what="the counsellor")
            except Exception as exc:
                log.warning("start failed (try %d): %r", attempt + 1, exc)
                window.starts_retried += 1
                await asyncio.sleep(5)
                continue
            self.visitor = visitor
            self.sync = Syncing(visitor.observer, "visitor", self.ledger)
            return True
        window.starts_failed += 1
        return False

    def _joined(self, visitor: Visitor) -> bool:
        return self.counsellor.sync.observer.user_id in visitor.observer.user.client.rooms[visitor.room].users

    async def talk(self, until_time: float, pace: tuple[float, float]) -> None:
        assert self.visitor is not None and self.sync is not None
        room = self.visitor.room

        async def side(speaker: Syncing, text: str) -> None:
            while time.monotonic() < until_time:
                await asyncio.sleep(random.uniform(*pace))
                if time.monotonic() < until_time:
                    await speaker.say(room, text)

        await asyncio.gather(side(self.sync, "Ik ben er nog."), side(self.counsellor.sync, "Ik lees mee."))

    async def end(self, within: float = 90) -> None:
        """The visitor ends the chat (the case closes and is purged) once both sides read everything."""
        assert self.visitor is not None and self.sync is not None
        room = self.visitor.room
        with contextlib.suppress(TimeoutError):
            await until(lambda: not [s for s in self.ledger.pending() if s.room == room], within, "the last messages")
        await self.sync.stop()
        info = self.stack.dev.stack()
        token = self.visitor.observer.user.client.access_token
        async with aiohttp.ClientSession() as http:
            for _ in range(10):
                with contextlib.suppress(aiohttp.ClientError):
                    async with http.post(
                        info["api"] + "/api/v1/sessions/end",
                        json={"reason": "ended"},
                        headers={"Authorization": f"Bearer {token}", "Origin": ORIGIN},
                    ) as resp:
                        if resp.status == 204:
                            return
                await asyncio.sleep(3)
        log.warning("the end of %s was refused", self.visitor.number)
