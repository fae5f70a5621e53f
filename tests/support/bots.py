"""The bots under test: a config against the test Synapse, in-process or as a real subprocess.

Each test gets its own bot account (a random localpart), its own data directory and its own
bots database (SQLite, or a fresh PostgreSQL database when Synapse runs on PostgreSQL), so
tests never share identities, rooms or sync tokens.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import yaml

from bots.db import Database, create_database
from bots.service import BotsService
from keerpunt.config import Config
from keerpunt.config.loader import _merge
from keerpunt.testing import ALWAYS_OPEN, SynapseProcess, free_port, make_test_config

ORIGIN = "http://portal.test"


class FakeClock:
    """Real time plus an offset the test moves forward."""

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


def bots_overrides(synapse: SynapseProcess, database: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    secret = synapse.config.path(synapse.config.homeserver.registration_shared_secret_file)
    base: dict[str, Any] = {
        "homeserver": {
            "server_name": synapse.server_name,
            "public_url": synapse.url,
            "internal_url": synapse.url,
            "registration_shared_secret_file": str(secret),
        },
        "bots": {
            "localpart": f"keerpunt-{secrets.token_hex(4)}",
            "database": database,
            "api": {"port": free_port(), "allowed_origins": [ORIGIN]},
            "rate_limit": {"per_client_per_hour": 10000, "global_per_minute": 10000},
        },
        # Also in the config file of a bots subprocess: tests do not depend on the hour.
        "hours": ALWAYS_OPEN,
    }
    return _merge(base, extra or {})


def bots_config(synapse: SynapseProcess, data_dir: Path, database: str, extra: dict[str, Any] | None = None) -> Config:
    return make_test_config(data_dir, bots_overrides(synapse, database, extra))


class InProcessBots:
    """The BotsService in the test's own event loop (restartable, with an injectable clock)."""

    def __init__(self, config: Config, clock: FakeClock | None = None) -> None:
        self.config = config
        self.clock = clock or FakeClock()
        self.service: BotsService | None = None

    @property
    def api(self) -> str:
        return f"http://{self.config.bots.api.host}:{self.config.bots.api.port}"

    @property
    def user_id(self) -> str:
        return self.config.bot_user_id

    @property
    def db(self) -> Database:
        assert self.service is not None and self.service.db is not None
        return self.service.db

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


class BotsProcess:
    """``python -m keerpunt --config <file> run bots`` as a child process (for SIGKILL tests)."""

    def __init__(self, config: Config, overrides: dict[str, Any], directory: Path) -> None:
        self.config = config
        self.config_file = directory / "keerpunt.yaml"
        self.config_file.write_text(yaml.safe_dump({"data_dir": config.data_dir, **overrides}))
        self.log_file = directory / "bots.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def api(self) -> str:
        return f"http://{self.config.bots.api.host}:{self.config.bots.api.port}"

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


async def open_database(config: Config) -> Database:
    db = create_database(config)
    await db.start()
    return db


async def wait_until(check: Callable[[], Any], *, within: float = 20.0, what: str = "condition") -> Any:
    """Poll an async or sync ``check`` until it returns something truthy; fail after ``within`` seconds."""
    deadline = time.monotonic() + within
    while True:
        value = check()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within:.0f}s waiting for {what}")
        await asyncio.sleep(0.05)
