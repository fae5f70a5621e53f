"""The stack under test: a private PostgreSQL cluster and Redis (never the machine's shared ones,
which other tests use), and `keerpunt dev --workers` on them, with a way to hit each process.

Every fault is one of three kinds: SIGKILL a child of `keerpunt dev --workers` (it starts the
child again, as compose's restart policy would), a fast shutdown of PostgreSQL and a start, or
Redis stopped and started again. ``wait_back`` tells when the process answers again.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

from keerpunt.base.routing import WORKERS
from tests.support.bots import ORIGIN
from tests.support.devstack import DevStack
from tests.support.synapse import ALWAYS_OPEN, free_port, free_port_block

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def missing() -> list[str]:
    """What the bench needs from the machine and cannot find."""
    out = [f"{tool} (apt-get install caddy)" for tool in ("caddy",) if shutil.which(tool) is None]
    if shutil.which("redis-server") is None:
        out.append("redis-server (apt-get install redis-server)")
    if not (PG_BIN / "initdb").exists():
        out.append(f"{PG_BIN}/initdb (apt-get install postgresql-15)")
    return out


class PrivatePostgres:
    """A throwaway cluster on its own port, in a directory of its own under /tmp (as root, the
    server runs as the ``postgres`` account, which cannot enter a root-only test folder)."""

    def __init__(self) -> None:
        self.home = Path(tempfile.mkdtemp(prefix="keerpunt-faults-pg-"))
        self.data = self.home / "data"
        self.port = free_port()
        self.log = self.home / "pg.log"

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *argv: str) -> None:
        env = {**os.environ, "LC_ALL": "C.UTF-8"}
        subprocess.run(argv, check=True, capture_output=True, env=env, timeout=120, preexec_fn=_as_postgres_user())

    def init(self) -> None:
        self.data.mkdir()
        _chown(self.home)
        self._run(str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        self.start()

    def start(self) -> None:
        opts = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off"
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-o", opts, "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def remove(self) -> None:
        shutil.rmtree(self.home, ignore_errors=True)


def _as_postgres_user() -> Callable[[], None] | None:
    """initdb refuses root: run it (and the server) as the ``postgres`` account when we are root."""
    if os.geteuid() != 0:
        return None
    import pwd

    entry = pwd.getpwnam("postgres")

    def become() -> None:
        os.setgid(entry.pw_gid)
        os.setuid(entry.pw_uid)

    return become


def _chown(path: Path) -> None:
    if os.geteuid() == 0:
        import pwd

        entry = pwd.getpwnam("postgres")
        for p in [path, *path.rglob("*")]:
            os.chown(p, entry.pw_uid, entry.pw_gid)


class PrivateRedis:
    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.folder = folder
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with (self.folder / "redis.log").open("ab") as log:
            self.proc = subprocess.Popen(
                ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                stdout=log,
                stderr=log,
                cwd=self.folder,
            )
        _wait_port(self.port, 20)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(20)


def _wait_port(port: int, within: float) -> None:
    import socket

    deadline = time.monotonic() + within
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing listens on {port}") from None
            time.sleep(0.1)


def write_config(folder: Path, pg: PrivatePostgres, redis: PrivateRedis) -> Path:
    hs = f"http://127.0.0.1:{free_port()}"
    api = free_port()
    path = folder / "keerpunt.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "homeserver": {"public_url": hs, "internal_url": hs},
                "synapse": {
                    "port": free_port(),
                    "workers": {
                        "base_port": free_port_block(14),
                        "dev_postgres": pg.url,
                        "redis_port": redis.port,
                    },
                },
                "bots": {
                    "metrics_port": free_port(),
                    "api": {"port": api, "allowed_origins": [ORIGIN]},
                    # The rate limits of one address: every bench visitor comes from 127.0.0.1.
                    "rate_limit": {
                        "per_client_per_hour": 100000,
                        "global_per_minute": 100000,
                        "restarts_per_client_per_hour": 100000,
                    },
                },
                "portal": {"port": free_port(), "api_url": f"http://127.0.0.1:{api}"},
                "hours": ALWAYS_OPEN,
            }
        )
    )
    return path


@dataclass
class Stack:
    """The running bench stack: PostgreSQL, Redis and `keerpunt dev --workers`."""

    folder: Path
    pg: PrivatePostgres
    redis: PrivateRedis
    dev: DevStack

    @classmethod
    def start(cls, folder: Path) -> Stack:
        pg = PrivatePostgres()
        pg.init()
        redis = PrivateRedis(folder)
        redis.start()
        config = write_config(folder, pg, redis)
        dev = DevStack(config, folder / "data", "--workers")
        stack = cls(folder, pg, redis, dev)
        try:
            dev.start(timeout=300)
        except BaseException:
            stack.stop()
            raise
        return stack

    def stop(self) -> None:
        if self.dev.proc is not None and self.dev.proc.poll() is None:
            self.dev.stop()
        self.redis.stop()
        self.pg.stop("fast")
        self.pg.remove()

    def pids(self, marker: str) -> list[int]:
        found = subprocess.run(["pgrep", "-f", marker], capture_output=True, text=True, check=False)
        own = self.dev.proc.pid if self.dev.proc else -1
        return [int(p) for p in found.stdout.split() if int(p) != own and _parent(int(p)) == own]

    def marker(self, target: str) -> str:
        """A string only the target child's command line holds."""
        data = self.dev.data_dir
        if target in ("bots", "portal"):
            return f"run {target}"
        if target == "caddy":
            return str(data / "caddy" / "Caddyfile")
        if target == "main":
            return "synapse.app.homeserver"
        assert target in {w.name for w in WORKERS}, target
        return str(data / "synapse" / "workers" / f"{target}.yaml")

    async def kill(self, target: str) -> None:
        """SIGKILL one child, or the fast stop of PostgreSQL / Redis; returns when it is back."""
        if target == "postgres":
            await asyncio.to_thread(self.pg.stop, "fast")
            await asyncio.sleep(2)
            await asyncio.to_thread(self.pg.start)
            return
        if target == "redis":
            await asyncio.to_thread(self.redis.stop)
            await asyncio.sleep(2)
            await asyncio.to_thread(self.redis.start)
            return
        old = self.pids(self.marker(target))
        assert len(old) == 1, (target, old)
        os.kill(old[0], signal.SIGKILL)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            now = self.pids(self.marker(target))
            if now and now != old:
                return
            await asyncio.sleep(0.2)
        raise AssertionError(f"{target} was not started again")


def _parent(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return -1
