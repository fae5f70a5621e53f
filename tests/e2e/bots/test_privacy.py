"""The session API keeps no client address anywhere: not in the bots' log, not in their database."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bots.db import Database
from tests.support.bots import BotsProcess, open_database
from tests.support.synapse import SynapseProcess
from tests.support.visitor import post_session

pytestmark = pytest.mark.integration

CLIENT = "127.0.7.77"  # a loopback address nothing else uses: the "visitor's IP"
FORWARDED = "198.51.100.23"  # a documentation address in X-Forwarded-For
TABLES = ("visitor_case", "bot_state", "handled_event", "pending_event", "outbox", "pinned_identity", "system_room")


@pytest.fixture
async def debug_bots(
    synapse: SynapseProcess, tmp_path: Path, bots_database: str, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[BotsProcess]:
    monkeypatch.setitem(os.environ, "KEERPUNT_BOTS_LOG_LEVEL", "DEBUG")
    proc = BotsProcess(synapse, tmp_path, bots_database, {"bots": {"rate_limit": {"per_client_per_hour": 2}}})
    await proc.start()
    yield proc
    proc.terminate()


async def _post(api: str, body: Any, path: str = "/api/v1/sessions", token: str | None = None) -> int:
    headers = {"X-Forwarded-For": FORWARDED}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    connector = aiohttp.TCPConnector(local_addr=(CLIENT, 0))
    async with aiohttp.ClientSession(connector=connector) as http:
        status, _, _ = await post_session(api, body, headers=headers, path=path, http=http)
        return status


async def _database_text(db: Database) -> str:
    dump = []
    for table in TABLES:
        dump.append(repr([tuple(row) for row in await db.fetch(f"SELECT * FROM {table}")]))  # noqa: S608 - fixed names
    return "\n".join(dump)


async def test_no_client_address_in_the_log_or_the_database(debug_bots: BotsProcess) -> None:
    api = debug_bots.api
    valid = {"language": "nl", "entry": "widget"}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=(CLIENT, 0))) as http:
        status, session, _ = await post_session(api, valid, headers={"X-Forwarded-For": FORWARDED}, http=http)
    assert status == 201
    assert await _post(api, {"language": "xx"}) == 400
    assert await _post(api, valid) == 201
    assert await _post(api, valid) == 429
    assert await _post(api, {}, "/api/v1/sessions/end", session["access_token"]) == 204
    debug_bots.terminate()

    log = debug_bots.log_file.read_text()
    assert "DEBUG" in log, "the bots did not log at debug level; the check would prove nothing"
    for needle in ("127.0.7.", "198.51.100."):
        assert needle not in log
    db = await open_database(debug_bots.config)
    try:
        text = await _database_text(db)
    finally:
        await db.stop()
    assert session["user_id"] in text  # the dump does see the data …
    for needle in ("127.0.7.", "198.51.100."):  # … but no address
        assert needle not in text
    for path, raw in _files(Path(debug_bots.config.data_dir)):
        assert b"127.0.7." not in raw and b"198.51.100." not in raw, path


def _files(root: Path) -> list[tuple[Path, bytes]]:
    """Every file the bots wrote (database, crypto store, keys), as bytes."""
    return [(path, path.read_bytes()) for path in root.rglob("*") if path.is_file()]
