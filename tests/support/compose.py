"""Clients of the local production stack (`make compose-up`, keerpunt/compose).

Everything goes through the proxy's public URLs over TLS, verified against the stack's local
CA (``ca_file`` in .keerpunt-compose.json); the stack's host names (``keerpunt.test``) have no
DNS, so a resolver maps them to the published loopback address (``connect``).
"""

from __future__ import annotations

import json
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from nio import AsyncClientConfig, KeysUploadError

from bots.homeserver.admin import Registration, SynapseAdmin
from bots.matrix.resilient import ResilientClient

from .matrix_clients import ClientFactory, TestUser

REPO = Path(__file__).resolve().parents[2]
INFO = REPO / ".keerpunt-compose.json"


def harness(*args: str, timeout: float = 1800) -> float:
    """`python -m keerpunt.compose ARGS` (what `make compose-up`/`compose-down` run); seconds taken."""
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "keerpunt.compose", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, f"compose {' '.join(args)}:\n{done.stdout[-3000:]}\n{done.stderr[-5000:]}"
    return time.monotonic() - started


def info() -> dict[str, Any]:
    return dict(json.loads(INFO.read_text("utf-8")))


class StackResolver(AbstractResolver):
    """The stack's names to its published loopback address (and nothing else)."""

    def __init__(self, connect: dict[str, str]) -> None:
        self.connect = {host: address.rsplit(":", 1)[0] for host, address in connect.items()}

    async def resolve(self, host: str, port: int = 0, family: int = socket.AF_INET) -> list[ResolveResult]:
        address = self.connect.get(host)
        assert address is not None, f"{host} is not a name of the stack"
        flags = socket.AI_NUMERICHOST | socket.AI_NUMERICSERV
        return [{"hostname": host, "host": address, "port": port, "family": socket.AF_INET, "proto": 0, "flags": flags}]

    async def close(self) -> None:
        return None


def tls(stack: dict[str, Any]) -> ssl.SSLContext:
    """Verifies the stack's certificates against its own CA, and only that."""
    return ssl.create_default_context(cafile=stack["ca_file"])


def http(stack: dict[str, Any], **kwargs: Any) -> aiohttp.ClientSession:
    connector = aiohttp.TCPConnector(resolver=StackResolver(stack["connect"]), ssl=tls(stack))
    return aiohttp.ClientSession(connector=connector, **kwargs)


class StackClients(ClientFactory):
    """ClientFactory's nio clients, through the stack's public URL (no shared secret: accounts
    come from the session API and the demo staff)."""

    def __init__(self, stack: dict[str, Any], tmp: Path) -> None:
        self.stack = stack
        self.tmp = tmp
        self._http: aiohttp.ClientSession | None = None
        self._users: list[TestUser] = []

    async def admin(self, token: str | None = None) -> SynapseAdmin:
        if self._http is None:
            self._http = http(self.stack)
        return SynapseAdmin(self.stack["homeserver"], session=self._http, shared_secret="", access_token=token)

    async def _client(
        self, reg: Registration, name: str, homeserver: str | None = None
    ) -> tuple[ResilientClient, Path]:
        store = self.tmp / f"{name}-{len(self._users)}"
        store.mkdir()
        client = ResilientClient(
            homeserver or self.stack["homeserver"],
            reg.user_id,
            device_id=reg.device_id,
            store_path=str(store),
            config=AsyncClientConfig(encryption_enabled=True, store_sync_tokens=True),
            ssl=tls(self.stack),
        )
        client.client_session = http(self.stack, timeout=aiohttp.ClientTimeout(total=120))
        client.restore_login(reg.user_id, reg.device_id, reg.access_token)
        if client.should_upload_keys:
            resp = await client.keys_upload()
            assert not isinstance(resp, KeysUploadError), resp
        return client, store

    async def move_to(self, stack: dict[str, Any]) -> None:
        """Every client to a new stack at the same URLs (a restore: a new proxy, a new CA)."""
        self.stack = stack
        if self._http is not None:
            await self._http.close()
            self._http = None
        for user in self._users:
            if user.client.client_session is not None:
                await user.client.client_session.close()
            user.client.ssl = tls(stack)
            user.client.client_session = http(stack, timeout=aiohttp.ClientTimeout(total=120))
