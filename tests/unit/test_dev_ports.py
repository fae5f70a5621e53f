"""`keerpunt dev` names a taken port and starts nothing, instead of joining another stack.

Without the check, a second `keerpunt dev` beside a running one registered its bots against the
first stack's Synapse and died with `SynapseError: 403 M_UNKNOWN: HMAC incorrect`.
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml

from keerpunt.base.config import EXIT_CONFIG, merge
from keerpunt.base.routing import WORKERS
from keerpunt.caddy import render_caddyfile
from keerpunt.devports import bind_problem, dev_listeners, free_ports_config, refusal, taken_ports
from keerpunt.devworkers import internal_port, workers_listeners
from keerpunt.synapse_config import init_synapse
from keerpunt.workers import worker_config_path
from tests.support.config import example_config
from tests.support.synapse import free_port, free_port_block

SERVICE_KEYS = {"bots.api.port", "portal.port", "bots.metrics_port", "portal.metrics_port"}


@contextmanager
def occupied(*, reuse_port: bool = False) -> Iterator[socket.socket]:
    """A listening socket on a free loopback port, as another stack's Synapse would hold it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        sock.setblocking(False)
        yield sock


def _port(sock: socket.socket) -> int:
    return int(sock.getsockname()[1])


def _stack(hs_port: int, api_port: int, portal_port: int, **more: Any) -> dict[str, Any]:
    hs = f"http://127.0.0.1:{hs_port}"
    site = f"http://127.0.0.1:{portal_port}"
    return merge(
        {
            "homeserver": {"public_url": hs, "internal_url": hs},
            "synapse": {"port": hs_port},
            "bots": {"api": {"port": api_port, "allowed_origins": [site]}},
            "portal": {"port": portal_port, "public_url": site, "api_url": f"http://127.0.0.1:{api_port}"},
        },
        more,
    )


def _run_dev(tmp_path: Path, settings: dict[str, Any], *args: str) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "keerpunt.yaml"
    config.write_text(yaml.safe_dump(settings), "utf-8")
    argv = [sys.executable, "-m", "keerpunt", "--config", str(config), "--data-dir", str(tmp_path / "data"), "dev"]
    return subprocess.run([*argv, *args], capture_output=True, text=True, timeout=60, check=False)


def _nobody_connected(sock: socket.socket) -> bool:
    try:
        conn, _ = sock.accept()
    except BlockingIOError:
        return True
    conn.close()
    return False


def test_a_second_dev_stack_names_every_taken_port_and_starts_nothing(tmp_path: Path) -> None:
    with occupied() as synapse, occupied() as api, occupied() as portal:
        result = _run_dev(tmp_path, _stack(_port(synapse), _port(api), _port(portal)))
        assert result.returncode == EXIT_CONFIG, result.stderr
        for sock, key in ((synapse, "synapse.port"), (api, "bots.api.port"), (portal, "portal.port")):
            assert f"127.0.0.1:{_port(sock)}, " in result.stderr
            assert f"({key}): address already in use" in result.stderr
            # Nothing reached the other stack: no bot registered with its Synapse, nobody asked its API.
            assert _nobody_connected(sock), key
    assert "nothing was started" in result.stderr
    assert str(tmp_path / "keerpunt.yaml") in result.stderr
    # The example names the keys to set, and it is a config that loads.
    example = yaml.safe_load(result.stderr.split("free just now):", 1)[1])
    assert {"synapse", "homeserver", "bots", "portal"} <= set(example)
    assert not (tmp_path / "data").exists(), "no data dir, so no Synapse config, no secrets, no account"
    assert result.stdout == ""


def test_the_workers_stack_checks_its_block_of_ports_before_it_needs_postgres_or_redis(tmp_path: Path) -> None:
    with occupied() as taken:
        # The client port of the third process (client1) is taken: the block moves as one.
        # PostgreSQL and Redis where nothing answers: the ports are checked first (78, not 69),
        # and a regression could not create a database on a real server.
        nowhere = free_port()
        workers = {
            "base_port": _port(taken) - 4,
            "dev_postgres": f"postgresql://postgres@127.0.0.1:{nowhere}/postgres",
            "redis_port": nowhere,
        }
        settings = _stack(free_port(), free_port(), free_port(), synapse={"workers": workers})
        result = _run_dev(tmp_path, settings, "--workers")
        assert _nobody_connected(taken)
        port = _port(taken)
    assert result.returncode == EXIT_CONFIG, result.stderr
    assert result.stderr.startswith("keerpunt dev --workers: nothing was started")
    assert f"127.0.0.1:{port}, Synapse's client1 (synapse.workers.base_port)" in result.stderr
    example = yaml.safe_load(result.stderr.split("free just now):", 1)[1])
    assert example["synapse"]["workers"]["base_port"] > port


def test_a_port_given_to_two_parts_of_the_stack_is_named_before_anything_listens() -> None:
    port = free_port()
    config = example_config(_stack(free_port(), port, port))
    taken = taken_ports(dev_listeners(config))
    assert [(at.key, why) for at, why in taken] == [("portal.port", "the same port as bots.api.port (the session API)")]


def test_a_port_shared_with_so_reuseport_counts_as_taken() -> None:
    # The portal's workers share their port with SO_REUSEPORT: a second portal doing the same
    # would bind beside the first and take half of its connections.
    with occupied(reuse_port=True) as sock:
        port = _port(sock)
        assert bind_problem("127.0.0.1", port) == "address already in use"
    assert bind_problem("127.0.0.1", port) is None


def test_the_suggested_ports_are_free_and_move_the_urls_that_name_them() -> None:
    with occupied() as synapse, occupied() as api, occupied() as portal, occupied() as metrics:
        # The bots' metrics on the session API's port, too: the URLs follow the API, not the metrics.
        settings = _stack(
            _port(synapse),
            _port(api),
            _port(portal),
            bots={"metrics_port": _port(api)},
            portal={"metrics_port": _port(metrics)},
        )
        config = example_config(settings)
        listeners = dev_listeners(config)
        taken = taken_ports(listeners)
        keys = {"synapse.port", "bots.api.port", "portal.port", "bots.metrics_port", "portal.metrics_port"}
        assert {at.key for at, _ in taken} == keys
        moved = example_config(settings, free_ports_config(config, listeners, (at.key for at, _ in taken)))
        assert taken_ports(dev_listeners(moved)) == []
    assert moved.homeserver.public_url == moved.homeserver.internal_url == f"http://127.0.0.1:{moved.synapse.port}"
    assert moved.portal.api_url == f"http://127.0.0.1:{moved.bots.api.port}"
    assert moved.portal.public_url == f"http://127.0.0.1:{moved.portal.port}"
    assert moved.bots.api.allowed_origins == (moved.portal.public_url,)


def test_every_free_stack_passes_the_check() -> None:
    config = example_config(_stack(free_port(), free_port(), free_port()))
    assert refusal(config, dev_listeners(config), None) is None


def _rendered_ports(hs_yaml: Path, worker_names: list[str]) -> set[int]:
    shared = yaml.safe_load(hs_yaml.read_text("utf-8"))
    ports = {listener["port"] for listener in shared["listeners"]}
    for name in worker_names:
        worker = yaml.safe_load(worker_config_path(hs_yaml.parent, name).read_text("utf-8"))
        ports |= {listener["port"] for listener in worker["worker_listeners"]}
    return ports


def test_the_single_stack_checks_exactly_the_ports_synapse_is_rendered_to_listen_on(tmp_path: Path) -> None:
    config = example_config(
        _stack(free_port(), free_port(), free_port(), synapse={"metrics_port": free_port()}, data_dir=str(tmp_path))
    )
    checked = {at.port for at in dev_listeners(config) if at.key not in SERVICE_KEYS}
    assert checked == _rendered_ports(init_synapse(config, variant="dev"), [])


def test_the_workers_stack_checks_exactly_the_ports_its_processes_and_caddy_listen_on(tmp_path: Path) -> None:
    base = free_port_block(13)
    workers = {"enabled": True, "base_port": base}
    settings = _stack(
        free_port(),
        free_port(),
        free_port(),
        data_dir=str(tmp_path),
        synapse={
            "database": "postgresql://postgres@127.0.0.1/x",
            "metrics_port": free_port_block(6),
            "workers": workers,
        },
    )
    config = example_config(settings, {"homeserver": {"internal_url": f"http://127.0.0.1:{base + 12}"}})
    assert internal_port(config) == base + 12
    synapse = _rendered_ports(init_synapse(config, variant="dev"), [worker.name for worker in WORKERS])
    caddy = {
        int(port) for port in re.findall(r"^http://127\.0\.0\.1:(\d+) \{$", render_caddyfile(config, "local"), re.M)
    }
    checked = {at.port for at in workers_listeners(config) if at.key not in SERVICE_KEYS}
    assert len(caddy) == 2
    assert checked == synapse | caddy


@pytest.mark.parametrize("key", ["bots.metrics_port", "portal.metrics_port", "synapse.metrics_port"])
def test_a_metrics_port_is_checked_only_when_it_is_on(key: str) -> None:
    section, last = key.split(".")
    on = example_config({section: {last: free_port()}})
    assert key in {at.key for at in dev_listeners(on)}
    assert key not in {at.key for at in dev_listeners(example_config())}
