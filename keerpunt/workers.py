"""Synapse's workers, rendered from the same layers as homeserver.yaml (keerpunt/synapse_config.py).

With ``synapse.workers.enabled`` the shared homeserver.yaml gets a replication listener on the
main process, Redis, ``instance_map``, ``stream_writers`` and the background worker, and each
worker of keerpunt/base/routing.py gets ``workers/<name>.yaml`` (laid over homeserver.yaml: Synapse
is started as ``-c homeserver.yaml -c workers/<name>.yaml``) and its own log config. Every
process reads the shared file, so Keerpunt's Synapse module (``modules:``) and the log filters
load on every process: the module's spam-checker and third-party-rules callbacks run on the
process that handles the request or creates the event, which is a worker for most of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from keerpunt.base.config import Config
from keerpunt.base.routing import BACKGROUND, MAIN, PROCESSES, STREAM_WRITERS, WORKERS, Process

COMPOSE_HTTP_PORT = 8008
COMPOSE_REPLICATION_PORT = 9093
REPLICATION_SECRET = "secrets/worker_replication_secret"  # noqa: S105 - a file name, not a secret


@dataclass(frozen=True)
class Address:
    host: str
    http_port: int
    replication_port: int

    @property
    def http(self) -> str:
        return f"{self.host}:{self.http_port}"


def address(config: Config, name: str) -> Address:
    """Where a process listens, in the configured layout."""
    workers = config.synapse.workers
    if workers.layout == "compose":
        host = "synapse" if name == MAIN else f"synapse-{name}"
        return Address(host, COMPOSE_HTTP_PORT, COMPOSE_REPLICATION_PORT)
    index = [p.name for p in PROCESSES].index(name)
    return Address("127.0.0.1", workers.base_port + 2 * index, workers.base_port + 2 * index + 1)


def upstream(config: Config, name: str) -> str:
    """host:port of a process's client listener; without workers everything is the one Synapse."""
    if not config.synapse.workers.enabled:
        return f"{_single_host(config)}:{config.synapse.port}"
    return address(config, name).http


def _single_host(config: Config) -> str:
    return "synapse" if config.synapse.workers.layout == "compose" else "127.0.0.1"


def _bind(config: Config) -> list[str]:
    return [config.synapse.bind_address]


def _client_listener(config: Config, port: int) -> dict[str, Any]:
    # Always behind the proxy with workers: it writes X-Forwarded-For (truncated, one hop).
    return {
        "port": port,
        "bind_addresses": _bind(config),
        "type": "http",
        "tls": False,
        "x_forwarded": True,
        "resources": [{"names": ["client"], "compress": False}],
    }


def _replication_listener(config: Config, port: int) -> dict[str, Any]:
    return {
        "port": port,
        "bind_addresses": _bind(config),
        "type": "http",
        "tls": False,
        "resources": [{"names": ["replication"]}],
    }


def shared_layer(config: Config, sdir: Path) -> dict[str, Any]:
    """What homeserver.yaml needs for workers (merged over the computed layer); {} without."""
    workers = config.synapse.workers
    if not workers.enabled:
        return {}
    main = address(config, MAIN)
    main_listener = _client_listener(config, main.http_port)
    if config.synapse.federation_allowlist:
        main_listener["resources"] = [{"names": ["client", "federation"], "compress": False}]
    instance_map = {
        p.name: {"host": address(config, p.name).host, "port": address(config, p.name).replication_port}
        for p in PROCESSES
        if p.replication
    }
    return {
        "listeners": [main_listener, _replication_listener(config, main.replication_port)],
        "redis": {"enabled": True, "host": workers.redis_host, "port": workers.redis_port},
        "instance_map": instance_map,
        "stream_writers": STREAM_WRITERS,
        "run_background_tasks_on": BACKGROUND,
        "worker_replication_secret_path": str(sdir / REPLICATION_SECRET),
        # Six processes share the database: fewer connections each than one process alone.
        "database": {"args": {"cp_min": 1, "cp_max": 5}},
    }


def metrics_listener(config: Config, port: int) -> dict[str, Any]:
    """Synapse's metrics, on the private network only (the proxy never forwards them)."""
    return {"port": port, "type": "metrics", "bind_addresses": [config.synapse.bind_address]}


def worker_config(config: Config, worker: Process, sdir: Path) -> dict[str, Any]:
    at = address(config, worker.name)
    listeners = []
    if worker.client:
        listeners.append(_client_listener(config, at.http_port))
    if worker.replication:
        listeners.append(_replication_listener(config, at.replication_port))
    if not listeners:
        # Only /health (every Synapse listener has it): for compose's health check and the dev
        # stack's readiness; the background worker serves no requests.
        listeners.append({**_replication_listener(config, at.http_port), "resources": [{"names": ["health"]}]})
    if config.synapse.metrics_port:
        # Each process its own port (after main's), so they can share a host as in `dev --workers`.
        index = [p.name for p in PROCESSES].index(worker.name)
        listeners.append(metrics_listener(config, config.synapse.metrics_port + index))
    return {
        "worker_app": "synapse.app.generic_worker",
        "worker_name": worker.name,
        "worker_listeners": listeners,
        "worker_log_config": str(worker_log_config_path(sdir, worker.name)),
    }


def worker_dir(sdir: Path) -> Path:
    return sdir / "workers"


def worker_config_path(sdir: Path, name: str) -> Path:
    return worker_dir(sdir) / f"{name}.yaml"


def worker_log_config_path(sdir: Path, name: str) -> Path:
    return worker_dir(sdir) / f"{name}.log.yaml"


def worker_log_path(sdir: Path, name: str) -> Path:
    return worker_dir(sdir) / f"{name}.log"


def render_workers(config: Config, sdir: Path) -> dict[str, dict[str, Any]]:
    """Each worker's own config, by name; {} without workers."""
    if not config.synapse.workers.enabled:
        return {}
    return {w.name: worker_config(config, w, sdir) for w in WORKERS}


def worker_argv(python: str, sdir: Path, name: str) -> list[str]:
    """The command line of one process (main or a worker), shared config first."""
    if name == MAIN:
        return [python, "-m", "synapse.app.homeserver", "-c", str(sdir / "homeserver.yaml")]
    return [
        python,
        "-m",
        "synapse.app.generic_worker",
        "-c",
        str(sdir / "homeserver.yaml"),
        "-c",
        str(worker_config_path(sdir, name)),
    ]
