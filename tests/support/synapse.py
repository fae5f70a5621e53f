"""A real Synapse for tests and benchmarks, started from the same rendered configuration.

``start_synapse`` renders Keerpunt's Synapse config, with the test overlay
``synapse-config/30-test.yaml`` (raised rate limits, cheap password hashing), into a temporary
data directory, on a free loopback port, on SQLite or on a fresh PostgreSQL database with C
collation, and starts Synapse as a child process.
"""

from __future__ import annotations

import contextlib
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import yaml

from keerpunt.base.config import Config, merge, read_secret
from keerpunt.synapse_config import init_synapse, synapse_dir

from .config import example_config


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def free_port_block(count: int) -> int:
    """The first of ``count`` consecutive free ports (Synapse's workers listen on a fixed block).

    The block lies below the kernel's ephemeral range: a port in that range can be taken at any
    moment as the local end of an outgoing connection (a busy run opens thousands), and a worker
    that then cannot bind exits at start.
    """
    try:
        ephemeral = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        ephemeral = 32768
    for _ in range(200):
        base = random.randrange(10000, ephemeral - count)
        if all(_bindable(port) for port in range(base, base + count)):
            return base
    raise RuntimeError(f"no {count} consecutive free ports below {ephemeral}")


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


# Tests must not depend on the hour they run at: the chat is open around the clock unless a
# test sets its own hours.
ALWAYS_OPEN: dict[str, Any] = {
    **{day: ["00:00-24:00"] for day in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")},
    "closed_on_public_holidays": False,
    "closed_dates": [],
    "special_hours": [],
}


def make_test_config(data_dir: Path, overrides: dict[str, Any] | None = None) -> Config:
    """A dev-mode config on free loopback ports in ``data_dir``, open around the clock."""
    synapse_port, api_port, portal_port = free_port(), free_port(), free_port()
    hs = f"http://127.0.0.1:{synapse_port}"
    portal = f"http://127.0.0.1:{portal_port}"
    return example_config(
        {
            "data_dir": str(data_dir),
            "homeserver": {"public_url": hs, "internal_url": hs},
            "synapse": {"port": synapse_port},
            "bots": {"api": {"port": api_port, "allowed_origins": [portal]}},
            "portal": {"port": portal_port, "public_url": portal, "api_url": f"http://127.0.0.1:{api_port}"},
            "hours": ALWAYS_OPEN,
        },
        overrides,
    )


def create_postgres_database(admin_url: str, prefix: str = "keerpunt_test") -> str:
    """Create a fresh database with C collation (as Synapse requires); return its URL."""
    import asyncio

    import asyncpg

    name = f"{prefix}_{secrets.token_hex(4)}"

    async def create() -> None:
        conn = await asyncpg.connect(admin_url)
        try:
            await conn.execute(f"CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'")
        finally:
            await conn.close()

    asyncio.run(create())
    parts = urlsplit(admin_url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))


def drop_postgres_database(admin_url: str, url: str) -> None:
    import asyncio

    import asyncpg

    name = urlsplit(url).path.lstrip("/")

    async def drop() -> None:
        conn = await asyncpg.connect(admin_url)
        try:
            await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        finally:
            await conn.close()

    asyncio.run(drop())


@dataclass
class SynapseProcess:
    config: Config
    backend: str
    process: subprocess.Popen[bytes] | None = None
    database_url: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.config.homeserver.internal_url

    @property
    def server_name(self) -> str:
        return self.config.homeserver.server_name

    @property
    def shared_secret(self) -> str:
        return read_secret(self.config, self.config.homeserver.registration_shared_secret_file)

    @property
    def log_file(self) -> Path:
        return synapse_dir(self.config) / "homeserver.log"

    def start(self, timeout: float = 120.0) -> None:
        sdir = synapse_dir(self.config)
        out = open(sdir / "synapse.out", "ab")  # noqa: SIM115 - handed to the child
        self.process = subprocess.Popen(
            [sys.executable, "-m", "synapse.app.homeserver", "-c", str(sdir / "homeserver.yaml")],
            cwd=sdir,
            env={**os.environ, "PYTHONPATH": str(sdir)},
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        out.close()
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"Synapse exited with {self.process.returncode}; see {sdir / 'synapse.out'}")
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(f"{self.url}/_matrix/client/versions", timeout=2) as resp,  # noqa: S310
            ):
                if resp.status == 200:
                    return
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError("Synapse did not answer in time")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_synapse(
    data_dir: Path,
    *,
    postgres_admin_url: str | None = None,
    overrides: dict[str, Any] | None = None,
    real_password_hashing: bool = False,
    production_login: bool = False,
) -> SynapseProcess:
    """Render and start a test Synapse; SQLite unless ``postgres_admin_url`` is given.

    ``real_password_hashing`` drops the test overlay's cheap ``bcrypt_rounds`` (benchmarks that
    time registrations must pay what production pays); the raised rate limits stay.
    ``production_login`` drops the overlay's raised ``rc_login`` (production keeps Synapse's own:
    5 logins per address, then one every ~333 s) and reads the client address from
    ``X-Forwarded-For``, as behind Keerpunt's proxy, so a test can speak from any network.
    """
    database_url = None
    merged = dict(overrides or {})
    if postgres_admin_url:
        database_url = create_postgres_database(postgres_admin_url, "keerpunt_synapse")
        merged = merge(merged, {"synapse": {"database": database_url}})
    config = make_test_config(data_dir, merged)
    homeserver = init_synapse(config, variant="dev", test=True)
    if real_password_hashing or production_login:
        rendered = yaml.safe_load(homeserver.read_text("utf-8"))
        if real_password_hashing:
            del rendered["bcrypt_rounds"]
        if production_login:
            del rendered["rc_login"]
            for listener in rendered["listeners"]:
                listener["x_forwarded"] = True
        homeserver.write_text(yaml.safe_dump(rendered, sort_keys=True), "utf-8")
    proc = SynapseProcess(config, "postgres" if postgres_admin_url else "sqlite", database_url=database_url)
    proc.start()
    return proc


__all__ = [
    "ALWAYS_OPEN",
    "SynapseProcess",
    "create_postgres_database",
    "drop_postgres_database",
    "free_port",
    "make_test_config",
    "start_synapse",
]
