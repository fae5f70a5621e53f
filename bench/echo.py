"""The floor the burst benchmarks compare Keerpunt's bots with: an echo bot on the same Synapse.

``bench.triage`` and ``bench.session_start`` run the same visitor clients, at the same
concurrency and in the same run, once against Keerpunt's bots and once against this bot, so
that the ratio of the two says what the bots add, whatever the machine's cores are doing.

The echo bot is what any E2EE bot must do at least: a matrix-nio client with vodozemac whose
device is cross-signed like Keerpunt's bot (so the visitors' trust check passes) and which
publishes a fallback key as Keerpunt's bot does (bots/matrix/fallback.py); a minimal
``POST /api/v1/sessions`` that registers the visitor through Keerpunt's application service
(no password hashed) and creates an encrypted room inviting them, which is what Keerpunt's
session API does when its ready sessions run out; and one encrypted answer to every message
from a visitor, at once. It runs in its own process, as Keerpunt's bots do, and reports two
timings through ``bots.timing`` as they do: how long after a visitor's send it had the
message decrypted, and its ``room_send`` of the answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing as mp
import secrets
import signal
import time
from multiprocessing.connection import Connection
from pathlib import Path

import aiohttp
from aiohttp import web
from nio import AsyncClient, AsyncClientConfig, MatrixRoom, MegolmEvent, RoomMessage, SyncResponse, UnknownEvent

from bots.crypto.cross_signing import ensure_device_cross_signed
from bots.homeserver.admin import SynapseAdmin
from bots.homeserver.appservice import VisitorAppservice
from bots.ids import VISITOR_PREFIX
from bots.matrix.fallback import publish_fallback_key
from bots.timing import TIMINGS
from keerpunt.base.config import read_secret
from tests.support.bots import TimedBots, answer_timing_commands
from tests.support.synapse import SynapseProcess, free_port

# What the visitors recognise as the bot's answer (Keerpunt's bots name theirs the same way).
KIND = "echo"
ENCRYPTION = {"type": "m.room.encryption", "state_key": "", "content": {"algorithm": "m.megolm.v1.aes-sha2"}}


class EchoBot:
    def __init__(self, homeserver: str, keys: tuple[str, str], store: Path, starts: int) -> None:
        self.homeserver, self.store = homeserver, store
        # Sessions made in Synapse at once, the rest wait their turn: as Keerpunt's session API
        # (bots.api.concurrent_session_starts). Unlimited, a burst of 100 shares Synapse so
        # evenly that every visitor waits as long as the last one.
        self.starts = asyncio.Semaphore(starts)
        self.shared_secret, self.appservice_token = keys
        self.client: AsyncClient | None = None
        self.pending: dict[str, tuple[MatrixRoom, MegolmEvent]] = {}  # its room key not here yet
        self.keys = asyncio.Lock()
        self.tasks: set[asyncio.Task[None]] = set()

    async def start(self, http: aiohttp.ClientSession) -> str:
        self.admin = SynapseAdmin(self.homeserver, session=http, shared_secret=self.shared_secret)
        reg = await self.admin.register(f"echo-{secrets.token_hex(4)}", secrets.token_urlsafe(16), admin=True)
        own = SynapseAdmin(self.homeserver, session=http, access_token=reg.access_token)
        await own.override_ratelimit(reg.user_id)  # exempt, as Keerpunt's bot is
        config = AsyncClientConfig(encryption_enabled=True)
        self.client = client = AsyncClient(self.homeserver, reg.user_id, reg.device_id, str(self.store), config)
        client.restore_login(reg.user_id, reg.device_id, reg.access_token)
        await client.keys_upload()
        # As Keerpunt's bot: when a burst of visitors has claimed every one-time key, Synapse
        # hands out this one, or those visitors' first messages could never be read.
        if not await publish_fallback_key(client):
            raise RuntimeError("the echo bot's fallback key could not be published")
        await ensure_device_cross_signed(own, reg.user_id, reg.device_id, self.store)
        self.own = own
        self.visitors = VisitorAppservice(own, self.appservice_token)
        client.add_event_callback(self.on_message, (RoomMessage, UnknownEvent, MegolmEvent))
        client.add_response_callback(self.after_sync, SyncResponse)
        return reg.user_id

    async def new_session(self, request: web.Request) -> web.Response:
        async with self.starts:
            reg = await self.visitors.register(f"{VISITOR_PREFIX}{secrets.token_hex(6)}")
            body = {"preset": "private_chat", "invite": [reg.user_id], "initial_state": [ENCRYPTION]}
            room = await self.own.create_room(body)
        session = {"homeserver": self.homeserver, "user_id": reg.user_id, "access_token": reg.access_token}
        return web.json_response({**session, "device_id": reg.device_id, "room_id": room}, status=201)

    async def on_message(self, room: MatrixRoom, event: RoomMessage | UnknownEvent | MegolmEvent) -> None:
        assert self.client is not None
        if event.sender == self.client.user_id:
            return
        if isinstance(event, MegolmEvent):
            self.pending[event.event_id] = (room, event)
            return
        TIMINGS.record("echo: visitor's send → decrypted by the echo bot", time.time() - event.server_timestamp / 1000)
        task = asyncio.create_task(self.answer(room.room_id))  # one answer must not hold up the sync
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def after_sync(self, _response: SyncResponse) -> None:
        assert self.client is not None
        for event_id, (room, event) in list(self.pending.items()):
            with contextlib.suppress(Exception):
                decrypted = self.client.decrypt_event(event)
                del self.pending[event_id]
                await self.on_message(room, decrypted)

    async def answer(self, room_id: str) -> None:
        assert self.client is not None
        async with self.keys:  # the new visitor's device, before the room key is shared with it
            if self.client.should_query_keys:
                await self.client.keys_query()
        content = {"msgtype": "m.text", "body": "echo", "nl.keerpunt.message": KIND}
        with TIMINGS.measure("echo: room_send of the answer"):
            await self.client.room_send(room_id, "m.room.message", content, ignore_unverified_devices=True)


def _main(homeserver: str, keys: tuple[str, str], store: str, limits: tuple[int, int], conn: Connection) -> None:
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("nio").setLevel(logging.CRITICAL)

    async def main() -> None:
        port, starts = limits
        bot = EchoBot(homeserver, keys, Path(store), starts)
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
            user_id = await bot.start(http)
            app = web.Application()
            app.router.add_post("/api/v1/sessions", bot.new_session)
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", port).start()
            stop = asyncio.Event()
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
            assert bot.client is not None
            no_presence = {"presence": {"not_types": ["*"]}}  # as the visitors' and Keerpunt's bots' filters
            syncing = asyncio.create_task(bot.client.sync_forever(30_000, no_presence, full_state=True))
            answer_timing_commands(conn)
            conn.send("ready")
            conn.send(user_id)
            await stop.wait()
            syncing.cancel()
            await runner.cleanup()
            await bot.client.close()

    asyncio.run(main())


class EchoProcess(TimedBots):
    """The echo bot in a child process; ``reset`` and ``timings`` as for Keerpunt's bots."""

    def __init__(self, synapse: SynapseProcess, store: Path, starts: int) -> None:
        store.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        ctx = mp.get_context("spawn")
        self.conn, child = ctx.Pipe()
        token = read_secret(synapse.config, synapse.config.homeserver.visitor_appservice_token_file)
        keys = (synapse.shared_secret, token)
        args = (synapse.url, keys, str(store), (self.port, starts), child)
        self.proc = ctx.Process(target=_main, args=args)
        self.echo_user = ""

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def user_id(self) -> str:
        return self.echo_user

    def start(self, within: float = 120.0) -> None:
        super().start(within)
        self.echo_user = self.conn.recv()
