"""`keerpunt dev --workers`: the dev stack with Synapse as a main process plus workers.

The same stack as `keerpunt dev` (the same ``dev-stack.json``, demo accounts and rooms), but
Synapse runs on PostgreSQL (a database of its own per data directory) with Redis replication,
as a main process and the workers of keerpunt/base/routing.py, all children of this process, and
Debian's ``caddy`` routes the homeserver URL from the same routing table as production. The
bots reach Synapse through Caddy's internal router (the admin API is refused on the public one).

The settings this adds to keerpunt.yaml are written to ``<data dir>/dev-workers.yaml``, which
every child reads, so the bots and the portal see the same configuration as this process.
"""

from __future__ import annotations

import asyncio
import importlib.util
import re
import secrets
import shutil
import socket
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import yaml

from keerpunt.base.config import EXIT_CONFIG, Config, load_config, merge
from keerpunt.base.routing import MAIN, PROCESSES, WORKERS
from keerpunt.caddy import HEALTH_PATH, render_caddyfile
from keerpunt.devports import Listener, refusal, service_listeners
from keerpunt.devstack import run_dev
from keerpunt.procs import Child, ProcessGroup, wait_http
from keerpunt.synapse_config import synapse_dir
from keerpunt.workers import address, worker_argv

EX_UNAVAILABLE = 69  # sysexits.h: a service this needs is not there
EFFECTIVE_CONFIG = "dev-workers.yaml"
DATABASE_FILE = "dev-database"
NAME = re.compile(r"^keerpunt_dev_[0-9a-f]{12}$")


def missing_services(config: Config) -> list[str]:
    """What `keerpunt dev --workers` needs and cannot find, one line each (empty: all there)."""
    workers = config.synapse.workers
    missing = []
    problem = _postgres_problem(workers.dev_postgres)
    if problem:
        parts = urlsplit(workers.dev_postgres)
        who = parts.username or "postgres"
        missing.append(
            f"PostgreSQL at {parts.hostname}:{parts.port or 5432} as user {who} ({problem}); "
            "set synapse.workers.dev_postgres to another server"
        )
    problem = _redis_problem(workers.redis_host, workers.redis_port)
    if problem:
        missing.append(
            f"Redis at {workers.redis_host}:{workers.redis_port} ({problem}); "
            "start redis-server or set synapse.workers.redis_host/redis_port"
        )
    if shutil.which("caddy") is None:
        missing.append("Debian's caddy on PATH (apt-get install caddy)")
    if importlib.util.find_spec("txredisapi") is None:
        missing.append("Synapse's Redis support (pip install 'matrix-synapse[redis]'; `make setup` installs it)")
    return missing


def _postgres_problem(url: str) -> str | None:
    import asyncpg

    async def probe() -> None:
        conn = await asyncpg.connect(url, timeout=3)
        await conn.close()

    try:
        asyncio.run(probe())
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}".strip()
    return None


def _redis_problem(host: str, port: int) -> str | None:
    try:
        with socket.create_connection((host, port), timeout=3) as sock:
            sock.sendall(b"PING\r\n")
            answer = sock.recv(64)
    except OSError as exc:
        return exc.strerror or type(exc).__name__
    return None if answer.startswith(b"+PONG") else f"answered {answer[:20]!r} to PING"


def _database_url(config: Config) -> str:
    """The data directory's own Synapse database on the dev PostgreSQL server (created once)."""
    sdir = synapse_dir(config)
    sdir.mkdir(parents=True, exist_ok=True, mode=0o700)
    marker = sdir / DATABASE_FILE
    if not marker.exists():
        marker.write_text(f"keerpunt_dev_{secrets.token_hex(6)}\n", "utf-8")
    name = marker.read_text("utf-8").strip()
    if not NAME.match(name):
        raise RuntimeError(f"{marker} does not name a database made by keerpunt dev --workers")
    admin = config.synapse.workers.dev_postgres
    asyncio.run(_create_database(admin, name))
    parts = urlsplit(admin)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", "", ""))


async def _create_database(admin: str, name: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(admin, timeout=5)
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            # Synapse requires C collation. The name is checked above (letters, digits, _).
            await conn.execute(f"CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'")
    finally:
        await conn.close()


def internal_port(config: Config) -> int:
    """The bots' router: the first port after the processes' ports."""
    return config.synapse.workers.base_port + 2 * len(PROCESSES)


def workers_listeners(config: Config) -> list[Listener]:
    """Every port of the workers stack: Synapse's processes, Caddy's two sites, the bots, the portal."""
    synapse = config.synapse
    base = synapse.workers.base_port
    out = []
    for index, process in enumerate(PROCESSES):
        # As keerpunt/workers.py renders them: a client port, a replication port for a stream
        # writer, the client port for /health alone when a process has neither, and metrics.
        ports = []
        if process.client or not process.replication:
            ports.append(("", "synapse.workers.base_port", 2 * index))
        if process.replication:
            ports.append((" replication", "synapse.workers.base_port", 2 * index + 1))
        if synapse.metrics_port:
            ports.append((" metrics", "synapse.metrics_port", index))
        for suffix, key, offset in ports:
            first = base if key == "synapse.workers.base_port" else synapse.metrics_port
            out.append(Listener(f"Synapse's {process.name}{suffix}", key, synapse.bind_address, first + offset, offset))
    public = urlsplit(config.homeserver.public_url)
    out.append(Listener("Caddy's homeserver site", "homeserver.public_url", public.hostname or "", public.port or 80))
    router = internal_port(config)
    out.append(Listener("Caddy's router for the bots", "synapse.workers.base_port", "127.0.0.1", router, router - base))
    return out + service_listeners(config)


def effective_config(config: Config, config_path: str | None) -> Path:
    """keerpunt.yaml with what the workers stack changes, written for every child to read."""
    own: dict[str, Any] = {}
    if config_path:
        own = yaml.safe_load(Path(config_path).read_text("utf-8")) or {}
    synapse: dict[str, Any] = {"workers": {"enabled": True, "layout": "loopback"}}
    if config.synapse.database == "sqlite":
        synapse["database"] = _database_url(config)
    over = {
        "data_dir": str(config.data_path),
        "synapse": synapse,
        "homeserver": {"internal_url": f"http://127.0.0.1:{internal_port(config)}"},
    }
    path = config.path(EFFECTIVE_CONFIG)
    path.write_text(
        "# Written by `keerpunt dev --workers`: your keerpunt.yaml plus the workers stack.\n"
        + yaml.safe_dump(merge(own, over), sort_keys=False),
        "utf-8",
    )
    return path


def run_dev_workers(config: Config, config_path: str | None) -> int:
    if (synapse_dir(config) / "homeserver.db").exists():
        print(
            f"keerpunt dev --workers: {config.data_path} holds a single-process stack (Synapse on SQLite); "
            "its rooms and accounts are not in PostgreSQL. Use another --data-dir for the workers stack.",
            file=sys.stderr,
        )
        return EX_UNAVAILABLE
    problem = refusal(config, workers_listeners(config), config_path, "keerpunt dev --workers")
    if problem:
        print(problem, file=sys.stderr)
        return EXIT_CONFIG
    missing = missing_services(config)
    if missing:
        print("keerpunt dev --workers needs what it cannot find:", file=sys.stderr)
        for line in missing:
            print(f"  - {line}", file=sys.stderr)
        return EX_UNAVAILABLE
    config.data_path.mkdir(parents=True, exist_ok=True)
    path = effective_config(config, config_path)
    workers_config = load_config(path, data_dir=str(config.data_path))
    return asyncio.run(run_dev(workers_config, str(path), start_synapse=start_synapse_workers))


async def start_synapse_workers(group: ProcessGroup, config: Config, logs: Path) -> Child:
    """Main, then the workers, then Caddy; returns when the bots' router answers through a worker."""
    sdir = synapse_dir(config)
    env = {"PYTHONPATH": str(sdir)}
    main = await group.start(
        "synapse",
        worker_argv(sys.executable, sdir, MAIN),
        cwd=sdir,
        env=env,
        log_path=logs / "synapse.out",
        restart=True,
    )
    # The main process prepares the database; the workers start on it afterwards.
    await wait_http(f"http://{address(config, MAIN).http}/_matrix/client/versions", within=180, child=main)
    children = {
        w.name: await group.start(
            f"synapse-{w.name}",
            worker_argv(sys.executable, sdir, w.name),
            cwd=sdir,
            env=env,
            log_path=logs / f"synapse-{w.name}.out",
            restart=True,
        )
        for w in WORKERS
    }
    for worker in WORKERS:
        at = address(config, worker.name)
        port = at.replication_port if worker.replication and not worker.client else at.http_port
        await wait_listening(at.host, port, children[worker.name])
    caddyfile = config.path("caddy") / "Caddyfile"
    caddyfile.parent.mkdir(exist_ok=True)
    caddyfile.write_text(render_caddyfile(config, "local"), "utf-8")
    caddy = await group.start(
        "caddy",
        ["caddy", "run", "--config", str(caddyfile), "--adapter", "caddyfile"],
        env={"XDG_CONFIG_HOME": str(caddyfile.parent), "XDG_DATA_HOME": str(caddyfile.parent)},
        log_path=logs / "caddy.log",
        restart=True,
    )
    await wait_http(config.homeserver.internal_url + HEALTH_PATH, within=30, child=caddy)
    await wait_http(config.homeserver.public_url + "/_matrix/client/versions", within=30, child=caddy)
    return main


async def wait_listening(host: str, port: int, child: Child, within: float = 120) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        if child.process.returncode is not None:
            raise RuntimeError(f"{child.name} exited with code {child.process.returncode}; see {child.log_path}")
        try:
            _, writer = await asyncio.open_connection(host, port)
        except OSError:
            if loop.time() > deadline:
                raise TimeoutError(f"{child.name} did not listen on {host}:{port} within {within:.0f}s") from None
            await asyncio.sleep(0.1)
            continue
        writer.close()
        await writer.wait_closed()
        return


__all__ = ["EFFECTIVE_CONFIG", "missing_services", "run_dev_workers", "start_synapse_workers", "workers_listeners"]
