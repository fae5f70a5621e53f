"""Debian's caddy, run with the rendered local router: admin paths refused, each route reaches
the worker the table names, addresses truncated, and main answers while a worker is down.

The workers are stand-in HTTP servers that say who they are and what they received; Synapse
itself runs behind this router in tests/e2e/test_dev_workers.py.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from keerpunt.base.config import Config
from keerpunt.base.routing import MAIN, PROCESSES
from keerpunt.caddy import HEALTH_PATH, render_caddyfile
from keerpunt.workers import address
from tests.support.config import example_config
from tests.support.proxy import caddy_binary
from tests.support.routing import ADMIN_PATHS, EXPECTED
from tests.support.synapse import free_port, free_port_block

CADDY = caddy_binary()
pytestmark = pytest.mark.skipif(
    CADDY is None and os.environ.get("CI", "").lower() != "true", reason="Debian's caddy is not installed"
)


def _config(tmp_path: Path, public_host: str = "127.0.0.1") -> Config:
    base = free_port_block(2 * len(PROCESSES))
    host = f"[{public_host}]" if ":" in public_host else public_host
    return example_config(
        {
            "data_dir": str(tmp_path),
            "homeserver": {
                "public_url": f"http://{host}:{free_port()}",
                "internal_url": f"http://127.0.0.1:{free_port()}",
            },
            "synapse": {
                "database": "postgresql://postgres@127.0.0.1/unused",
                "workers": {"enabled": True, "base_port": base},
            },
        }
    )


@dataclass
class Backends:
    seen: list[dict[str, Any]] = field(default_factory=list)
    runners: dict[str, web.AppRunner] = field(default_factory=dict)

    async def start(self, config: Config) -> None:
        for process in PROCESSES:
            if not process.client:
                continue
            app = web.Application()
            app.router.add_route("*", "/{tail:.*}", self._handler(process.name))
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", address(config, process.name).http_port).start()
            self.runners[process.name] = runner

    def _handler(self, name: str) -> Any:
        async def handle(request: web.Request) -> web.Response:
            seen = {"process": name, "path": request.path, "xff": request.headers.getall("X-Forwarded-For", [])}
            self.seen.append(seen)
            return web.json_response(seen)

        return handle

    async def stop(self, name: str | None = None) -> None:
        for key in [name] if name else list(self.runners):
            await self.runners.pop(key).cleanup()


async def _wait_for(url: str) -> None:
    async with aiohttp.ClientSession() as http:
        for _ in range(100):
            try:
                async with http.get(url) as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError(f"caddy did not answer at {url}")


@dataclass
class Router:
    config: Config
    backends: Backends

    @property
    def public(self) -> str:
        return self.config.homeserver.public_url

    @property
    def internal(self) -> str:
        return self.config.homeserver.internal_url


async def _router(tmp_path: Path, public_host: str = "127.0.0.1") -> AsyncIterator[Router]:
    assert CADDY is not None, "CI needs Debian's caddy (.ci/run installs it)"
    config = _config(tmp_path, public_host)
    backends = Backends()
    await backends.start(config)
    caddyfile = tmp_path / "Caddyfile"
    caddyfile.write_text(render_caddyfile(config, "local"))
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path)}
    with (tmp_path / "caddy.log").open("wb") as log:
        proc = subprocess.Popen(  # noqa: ASYNC220 - started once, waited for over HTTP
            [CADDY, "run", "--config", str(caddyfile), "--adapter", "caddyfile"], stdout=log, stderr=log, env=env
        )
    try:
        await _wait_for(config.homeserver.internal_url + HEALTH_PATH)
        yield Router(config, backends)
    finally:
        proc.terminate()
        proc.wait(10)
        await backends.stop()


@pytest.fixture
async def router(tmp_path: Path) -> AsyncIterator[Router]:
    async for r in _router(tmp_path):
        yield r


async def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as http, http.get(url, headers=headers) as resp:
        body = await resp.json() if resp.content_type == "application/json" else await resp.text()
        return resp.status, body


async def test_every_routed_endpoint_reaches_the_worker_the_table_names(router: Router) -> None:
    for path, process in EXPECTED.items():
        if path.startswith("/_synapse/admin"):
            continue
        status, body = await _get(router.public + path.replace("!", "%21").replace("$", "%24"))
        assert status == 200 and body["process"] == process, (path, body)
        # The bots' router sends the same request to the same process.
        status, body = await _get(router.internal + path)
        assert status == 200 and body["process"] == process, (path, body)


async def test_admin_paths_are_refused_and_never_reach_synapse(router: Router) -> None:
    sneaky = ["/_matrix/client/r0/../../_synapse/admin/v1/users", "/_synapse/admin/v1/users/%2e%2e/x"]
    async with aiohttp.ClientSession() as http:
        for path in [*ADMIN_PATHS, *sneaky]:
            url = router.public + path
            async with http.get(yarl_raw(url)) as resp:
                assert resp.status in (403, 404), path
            async with http.post(yarl_raw(url), json={}) as resp:
                assert resp.status in (403, 404), path
    assert router.backends.seen == []
    # The bots' internal router passes the admin API to the main process.
    status, body = await _get(router.internal + "/_synapse/admin/v1/register")
    assert status == 200 and body["process"] == MAIN


def yarl_raw(url: str) -> Any:
    import yarl

    return yarl.URL(url, encoded=True)


async def test_synapse_sees_only_the_truncated_address_in_one_header(router: Router) -> None:
    spoof = {"X-Forwarded-For": "203.0.113.9", "X-Real-IP": "203.0.113.9", "Forwarded": "for=203.0.113.9"}
    status, body = await _get(router.public + "/_matrix/client/v3/sync", spoof)
    assert status == 200 and body["xff"] == ["127.0.0.0"]
    assert (await _get(router.public + "/_synapse/metrics"))[0] == 404, "only client paths are forwarded"


async def test_main_answers_while_a_worker_is_down(router: Router) -> None:
    await router.backends.stop("sync1")
    status, body = await _get(router.public + "/_matrix/client/v3/sync")
    assert status == 200 and body["process"] == MAIN


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _ipv6_loopback(), reason="no IPv6 loopback here")
async def test_an_ipv6_client_is_truncated_to_its_48(tmp_path: Path) -> None:
    async for router in _router(tmp_path, "::1"):
        status, body = await _get(router.public + "/_matrix/client/v3/sync")
        assert status == 200 and body["xff"] == ["::"]


async def test_with_every_upstream_down_the_proxy_logs_no_address_agent_or_path(router: Router) -> None:
    """SECURITY.md H.36 (review 3, N1): a 502 while upstreams restart leaves an error line
    (status, cause) in Caddy's output, but not the client's address, agent or the path's IDs."""
    await router.backends.stop()
    client, agent, room = "127.0.7.79", "KeerpuntProbe/7.1", "!geheimekamer:example.org"
    connector = aiohttp.TCPConnector(local_addr=(client, 0))
    async with aiohttp.ClientSession(connector=connector) as http:
        url = f"{router.public}/_matrix/client/v3/rooms/{room}/messages?dir=b"
        async with http.get(url, headers={"User-Agent": agent, "Authorization": "Bearer t"}) as resp:
            assert resp.status == 502
    log = (Path(router.config.data_dir) / "caddy.log").read_text()
    errors = [line for line in log.splitlines() if '"status":502' in line]
    assert errors, log  # the line is there, only without the request
    for needle in (client, agent, "geheimekamer", "/rooms/"):
        assert needle not in log, needle
