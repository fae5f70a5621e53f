"""The bots under test: a config against the test Synapse, in-process or as a real child process.

Each bot service gets its own bot account (a random localpart), its own data directory and its
own bots database (SQLite, or a fresh PostgreSQL database when Synapse runs on PostgreSQL), so
two services never share identities, rooms or sync tokens. The fixtures (tests/support/plugin.py)
start one service per test module, or one per test for the tests that need their own.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing as mp
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import aiohttp
import yaml

from bots.app import Assembled
from bots.db import Database, create_database
from bots.handover.worker import HandoverWorker
from bots.service import BotsService
from bots.sessions.domain import SessionManager
from bots.sessions.pool import ReadySessions
from bots.sessions.retention import RetentionTask
from bots.stats.worker import StatsWorker
from keerpunt.base.config import Config, merge

from .synapse import ALWAYS_OPEN, SynapseProcess, free_port, make_test_config

ORIGIN = "http://portal.test"
# The bots' own database when Synapse runs on SQLite: a file in the bots' data directory.
SQLITE_DATABASE = "sqlite:bots/bots.db"


class FakeClock:
    """Real time plus an offset the test moves forward."""

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> float:
        return time.time() + self.offset

    def monotonic(self) -> float:
        return time.monotonic() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


def bots_overrides(synapse: SynapseProcess, database: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    secret = synapse.config.path(synapse.config.homeserver.registration_shared_secret_file)
    appservice = synapse.config.path(synapse.config.homeserver.visitor_appservice_token_file)
    base: dict[str, Any] = {
        "homeserver": {
            "server_name": synapse.server_name,
            "public_url": synapse.url,
            "internal_url": synapse.url,
            "registration_shared_secret_file": str(secret),
            "visitor_appservice_token_file": str(appservice),
        },
        "bots": {
            "localpart": f"keerpunt-{secrets.token_hex(4)}",
            "database": database,
            # A small pool: every bots service of the suite fills its own at start.
            "api": {"port": free_port(), "allowed_origins": [ORIGIN], "ready_sessions": 2},
            # Every test's visitors come from 127.0.0.1: the abuse limits are raised (tests of a
            # limit set their own), or a browser test that ends and starts again would wait.
            "rate_limit": {
                "per_client_per_hour": 10000,
                "global_per_minute": 10000,
                "restarts_per_client_per_hour": 10000,
            },
            # The proof of work before a start is off, as for a client that posts by hand; the
            # tests of the challenge (and the browser test of the widget solving it) turn it on.
            "challenge": {"enabled": False},
        },
        # Also in the config file of a bots child process: tests do not depend on the hour.
        "hours": ALWAYS_OPEN,
    }
    return merge(base, extra or {})


def bots_config(synapse: SynapseProcess, data_dir: Path, database: str, extra: dict[str, Any] | None = None) -> Config:
    return make_test_config(data_dir, bots_overrides(synapse, database, extra))


def bots_config_file(
    synapse: SynapseProcess, directory: Path, database: str = SQLITE_DATABASE, extra: dict[str, Any] | None = None
) -> tuple[Config, Path]:
    """The bots' config as a file in ``directory`` (for a child process) and as the test sees it."""
    overrides = bots_overrides(synapse, database, extra)
    config = make_test_config(directory / "data", overrides)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "keerpunt.yaml"
    path.write_text(yaml.safe_dump({"data_dir": config.data_dir, **overrides}))
    return config, path


def api_url(config: Config) -> str:
    return f"http://{config.bots.api.host}:{config.bots.api.port}"


class InProcessBots:
    """The BotsService in the test's own event loop (restartable, with an injectable clock)."""

    def __init__(self, config: Config, clock: FakeClock | None = None) -> None:
        self.config = config
        self.clock = clock or FakeClock()
        self.service: BotsService | None = None

    @property
    def api(self) -> str:
        return api_url(self.config)

    @property
    def user_id(self) -> str:
        return self.config.bot_user_id

    @property
    def db(self) -> Database:
        assert self.service is not None and self.service.db is not None
        return self.service.db

    @property
    def assembled(self) -> Assembled:
        assert self.service is not None and self.service.bot is not None
        return self.service.bot

    @property
    def sessions(self) -> SessionManager:
        """The running session manager (for tests that drive repair or the ready sessions)."""
        return self.assembled.service(SessionManager)

    @property
    def pool(self) -> ReadySessions:
        """The running ready sessions."""
        return self.assembled.service(ReadySessions)

    @property
    def retention(self) -> RetentionTask:
        return self.assembled.service(RetentionTask)

    @property
    def handover_worker(self) -> HandoverWorker:
        return self.assembled.service(HandoverWorker)

    @property
    def statistics(self) -> StatsWorker:
        """The running statistics worker (a test wakes it rather than wait for its idle round)."""
        return self.assembled.service(StatsWorker)

    async def start(self) -> None:
        self.service = BotsService(self.config, clock=self.clock)
        try:
            await self.service.start()
        except BaseException:
            await self.service.stop()
            raise

    async def stop(self) -> None:
        if self.service is not None:
            await self.service.stop()
            self.service = None

    async def restart(self) -> None:
        await self.stop()
        await self.start()


# What a test module does once its bots run (e.g. add staff): see the ``bots_setup`` fixture.
BotsSetup = Callable[[InProcessBots], Awaitable[None]]


class BotsProcess:
    """``python -m keerpunt --config <file> run bots`` as a child process (for SIGKILL tests)."""

    def __init__(
        self, synapse: SynapseProcess, directory: Path, database: str, extra: dict[str, Any] | None = None
    ) -> None:
        self.config, self.config_file = bots_config_file(synapse, directory, database, extra)
        self.log_file = directory / "bots.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def api(self) -> str:
        return api_url(self.config)

    def spawn(self, env: dict[str, str] | None = None) -> None:
        """Start the child; ``env`` adds variables (e.g. ``KEERPUNT_CRASH_AT``, see bots.failpoints)."""
        level = os.environ.get("KEERPUNT_BOTS_LOG_LEVEL", "INFO")
        with open(self.log_file, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "keerpunt", "--config", str(self.config_file), "run", "bots"],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, "KEERPUNT_LOG_LEVEL": level, **(env or {})},
            )

    def tail(self) -> str:
        return self.log_file.read_text()[-4000:]

    async def start(self, within: float = 60.0, env: dict[str, str] | None = None) -> None:
        """Spawn the bots and wait until their health endpoint answers."""
        self.spawn(env)
        assert self.proc is not None
        deadline = time.monotonic() + within
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise AssertionError(f"bots exited with {self.proc.returncode}:\n{self.tail()}")
                try:
                    async with http.get(self.api + "/api/v1/health") as resp:
                        if resp.status == 200:
                            return
                except (aiohttp.ClientError, TimeoutError):
                    pass
                await asyncio.sleep(0.05)
        raise AssertionError(f"bots did not become healthy:\n{self.tail()}")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def terminate(self) -> int:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise


def answer_timing_commands(conn: Connection) -> None:
    """In a child's running event loop: answer 'reset' / 'dump' of ``bots.timing`` on ``conn``."""
    from bots.timing import TIMINGS

    def command() -> None:
        what = conn.recv()
        if what == "reset":
            TIMINGS.reset()
            conn.send("ok")
        elif what == "dump":
            conn.send(TIMINGS.snapshot())

    asyncio.get_running_loop().add_reader(conn.fileno(), command)


def _timed_bots_main(config_file: str, conn: Connection) -> None:
    """Child process of :class:`TimedBots`: run BotsService; answer 'reset' / 'dump' for bots.timing."""
    from keerpunt.base.config import load_config

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("nio").setLevel(logging.ERROR)

    async def main() -> None:
        service = BotsService(load_config(config_file))
        await service.start()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        answer_timing_commands(conn)
        conn.send("ready")
        await stop.wait()
        await service.stop()

    asyncio.run(main())


class TimedBots:
    """The bots in a child process that also hands out ``bots.timing`` (for the benchmarks).

    The child runs ``BotsService`` itself (not the ``keerpunt`` CLI as :class:`BotsProcess`
    does), so that it can reset and dump the timing registry over a pipe.
    """

    def __init__(
        self, synapse: SynapseProcess, directory: Path, database: str, extra: dict[str, Any] | None = None
    ) -> None:
        self.config, config_file = bots_config_file(synapse, directory, database, extra)
        ctx = mp.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_timed_bots_main, args=(str(config_file), child))

    @property
    def api(self) -> str:
        return api_url(self.config)

    @property
    def user_id(self) -> str:
        return self.config.bot_user_id

    def start(self, within: float = 120.0) -> None:
        self.proc.start()
        if not self.conn.poll(within) or self.conn.recv() != "ready":
            raise RuntimeError("the bots did not start")

    def reset(self) -> None:
        self.conn.send("reset")
        self.conn.recv()

    def timings(self) -> dict[str, dict[str, float]]:
        self.conn.send("dump")
        return dict(self.conn.recv())

    def stop(self) -> None:
        if self.proc.pid is not None:
            self.proc.terminate()
            self.proc.join(30)


async def open_database(config: Config) -> Database:
    db = create_database(config)
    await db.start()
    return db
