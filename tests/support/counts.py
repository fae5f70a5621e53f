"""What exists: visitor accounts, rooms and cases, to prove a refused request left nothing behind."""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp

from bots.db.case import CaseStore

from .bots import InProcessBots
from .matrix_clients import ClientFactory
from .synapse import SynapseProcess
from .waiting import wait_until


@dataclass(frozen=True)
class Counts:
    accounts: int  # visitor accounts, deactivated ones included
    active_accounts: int
    rooms: int
    cases: int


async def _admin_get(synapse: SynapseProcess, token: str, path: str) -> dict[str, object]:
    async with (
        aiohttp.ClientSession() as http,
        http.get(synapse.url + path, headers={"Authorization": f"Bearer {token}"}) as resp,
    ):
        assert resp.status == 200, await resp.text()
        return dict(await resp.json())


async def counts(clients: ClientFactory, bots: InProcessBots) -> Counts:
    """What exists, once the ready sessions are topped up again (they come and go)."""
    pool = bots.pool
    await wait_until(lambda: pool.full, what="the ready sessions to be topped up")
    operator = await clients.user("operator", admin=True)
    token = operator.registration.access_token
    every = await _admin_get(clients.synapse, token, "/_synapse/admin/v2/users?name=visitor-&deactivated=true&limit=1")
    active = await _admin_get(clients.synapse, token, "/_synapse/admin/v2/users?name=visitor-&limit=1")
    rooms = await _admin_get(clients.synapse, token, "/_synapse/admin/v1/rooms?limit=1")
    return Counts(
        int(every["total"]),  # type: ignore[call-overload]
        int(active["total"]),  # type: ignore[call-overload]
        int(rooms["total_rooms"]),  # type: ignore[call-overload]
        await CaseStore(bots.db).count(),
    )
