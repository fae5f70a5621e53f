"""A counsellor on Element's own crypto stack, for the e2e and browser tests: ``element_jssdk.mjs``
(matrix-js-sdk with the Rust crypto, strict mode, a first device that sets up its own
cross-signing) run by Node from the widget's packages, driven over JSON lines.

It keeps what Element would show of every room it is in (each event's latest outcome: decrypted,
or why not), and sends, reacts and joins as a counsellor would in Element.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import secrets
import shutil
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from bots.db.staff import StaffStore
from bots.db.system_room import SystemRoomStore

from .browser import Stack
from .matrix_clients import ClientFactory

SCRIPT = Path(__file__).with_name("element_jssdk.mjs")
JS_SDK = Path(__file__).resolve().parents[2] / "widget" / "node_modules" / "matrix-js-sdk"
START_TIMEOUT = 60.0  # login, crypto, cross-signing, first sync and key upload (seconds on CI)

Event = dict[str, Any]


def require_node() -> str:
    """Node and the widget's js-sdk; CI has both (`make setup`), so there a lack is a failure."""
    node = shutil.which("node")
    missing = "node is not on PATH" if node is None else None
    if missing is None and not JS_SDK.is_dir():
        missing = "widget/node_modules has no matrix-js-sdk (run `make setup`)"
    if missing is None and node is not None:
        return node
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(str(missing))
    pytest.skip(str(missing))


class ElementClient:
    def __init__(self, user_id: str) -> None:
        self.user_id = user_id
        self.device_id = ""
        self.events: dict[str, Event] = {}  # event id → latest outcome, in arrival order
        self.invites: list[str] = []
        self._proc: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None
        self._answers: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._ids = itertools.count(1)
        self._ready: asyncio.Future[dict[str, Any]] | None = None
        # time.monotonic() when the device had set up its cross-signing.
        self.signed_at: float | None = None

    @classmethod
    async def start(cls, homeserver: str, user_id: str, password: str) -> ElementClient:
        node = require_node()
        client = cls(user_id)
        client._proc = await asyncio.create_subprocess_exec(
            node, str(SCRIPT), stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, limit=1 << 22
        )
        client._ready = asyncio.get_running_loop().create_future()
        client._reader = asyncio.create_task(client._read())
        await client._write({"homeserver": homeserver, "user_id": user_id, "password": password})
        ready = await asyncio.wait_for(client._ready, START_TIMEOUT)
        client.device_id = str(ready["device_id"])
        return client

    async def _write(self, obj: dict[str, Any]) -> None:
        assert self._proc is not None and self._proc.stdin is not None
        self._proc.stdin.write((json.dumps(obj) + "\n").encode())
        await self._proc.stdin.drain()

    async def _read(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        while raw := await self._proc.stdout.readline():
            line = json.loads(raw)
            if "signed" in line:
                self.signed_at = time.monotonic()
            elif "ready" in line and self._ready is not None:
                self._ready.set_result(line["ready"])
            elif "event" in line:
                event = line["event"]
                self.events.pop(event["event_id"], None)
                self.events[event["event_id"]] = event
            elif "invite" in line:
                self.invites.append(line["invite"])
            elif "id" in line and line["id"] in self._answers:
                self._answers.pop(line["id"]).set_result(line)
        failure = AssertionError(f"the js-sdk client exited ({await self._proc.wait()}); see its stderr")
        for future in [self._ready, *self._answers.values()]:
            if future is not None and not future.done():
                future.set_exception(failure)

    async def _op(self, op: str, within: float = 30.0, **values: Any) -> dict[str, Any]:
        ident = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._answers[ident] = future
        await self._write({"id": ident, "op": op, **values})
        answer = await asyncio.wait_for(future, within)
        if "error" in answer:
            raise AssertionError(f"js-sdk {op} failed: {answer['error']}")
        return answer

    async def send(self, room: str, content: dict[str, Any], event_type: str = "m.room.message") -> str:
        return str((await self._op("send", room=room, type=event_type, content=content))["event_id"])

    async def say(self, room: str, body: str, **extra: Any) -> str:
        return await self.send(room, {"msgtype": "m.text", "body": body, **extra})

    async def react(self, room: str, target: str, key: str = "👍") -> str:
        relates = {"rel_type": "m.annotation", "event_id": target, "key": key}
        return await self.send(room, {"m.relates_to": relates}, "m.reaction")

    async def join(self, room: str) -> None:
        await self._op("join", room=room)

    # What Element shows

    def messages(self, room: str) -> list[Event]:
        """Decrypted messages of ``room`` that are not edits."""
        return [
            e
            for e in self.events.values()
            if e["room_id"] == room
            and e["decrypted"]
            and e["type"] == "m.room.message"
            and (e["content"].get("m.relates_to") or {}).get("rel_type") != "m.replace"
        ]

    def card(self, room: str, number: str) -> Event | None:
        return next(
            (e for e in self.messages(room) if (e["content"].get("nl.keerpunt.card") or {}).get("case") == number),
            None,
        )

    def replies_to(self, room: str, event_id: str) -> list[str]:
        return [
            str(e["content"].get("body", ""))
            for e in self.messages(room)
            if ((e["content"].get("m.relates_to") or {}).get("m.in_reply_to") or {}).get("event_id") == event_id
        ]

    async def wait_for(self, check: Callable[[], Any], *, within: float = 30.0, what: str = "an event") -> Any:
        deadline = time.monotonic() + within
        while True:
            found = check()
            if found:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(f"the js-sdk client of {self.user_id} timed out waiting for {what}")
            await asyncio.sleep(0.1)

    async def reply_to(self, room: str, event_id: str, *, within: float = 30.0) -> str:
        replies: list[str] = await self.wait_for(lambda: self.replies_to(room, event_id), within=within, what="a reply")
        return replies[0]

    async def close(self) -> None:
        if self._proc is None:
            return
        if self._proc.returncode is None and self._proc.stdin is not None:
            self._proc.stdin.close()
            try:
                await asyncio.wait_for(self._proc.wait(), 10)
            except TimeoutError:
                self._proc.kill()
                await self._proc.wait()
        if self._reader is not None:
            await self._reader


async def element_staff(clients: ClientFactory, stack: Stack, name: str, *, supervisor: bool = False) -> ElementClient:
    """A counsellor (a supervisor: ``supervisor``, as `keerpunt staff add --supervisor`) in the
    queue room, on Element's own crypto stack."""
    password = secrets.token_urlsafe(16)
    prefix = "sup" if supervisor else "c"
    registration = await (await clients.admin()).register(
        f"{prefix}-{secrets.token_hex(5)}", password, displayname=name
    )
    staff = StaffStore(stack.bots.db)
    await staff.add(registration.user_id, "counsellor")
    if supervisor:
        await staff.set_supervisor(registration.user_id, True)
    queue_room = await SystemRoomStore(stack.bots.db).get("queue")
    assert queue_room is not None
    await (await clients.admin(stack.bot_token)).force_join(queue_room, registration.user_id)
    return await ElementClient.start(clients.synapse.url, registration.user_id, password)


@asynccontextmanager
async def counsellor_in_element(clients: ClientFactory, stack: Stack, name: str) -> AsyncIterator[ElementClient]:
    """``element_staff`` for the length of a block, closed after it."""
    client = await element_staff(clients, stack, name)
    try:
        yield client
    finally:
        await client.close()
