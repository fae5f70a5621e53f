"""bots.matrix.resilient: one failed room-key share must not end a nio client (issue 27).

Each case runs against plain nio too, to show the fault is there without the fix (if a nio
release fixes it, the control assertion fails and the mend can go).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from nio import AsyncClient, AsyncClientConfig, MatrixRoom, ShareGroupSessionError

from bots.matrix.resilient import ResilientClient

ROOM = "!room:example.org"
ERROR = {"errcode": "M_UNKNOWN", "error": "Internal server error"}  # what a worker answers while PostgreSQL restarts


def _client(cls: type[AsyncClient], tmp_path: Path) -> AsyncClient:
    client = cls(
        "http://127.0.0.1:9",
        "@visitor:example.org",
        device_id="DEVICE",
        store_path=str(tmp_path),
        config=AsyncClientConfig(encryption_enabled=True, store_sync_tokens=False),
    )
    client.restore_login("@visitor:example.org", "DEVICE", "secret-token")
    return client


@pytest.mark.parametrize(("cls", "keeps"), [(AsyncClient, False), (ResilientClient, True)])
async def test_a_failed_room_key_share_keeps_the_access_token(
    cls: type[AsyncClient], keeps: bool, tmp_path: Path
) -> None:
    client = _client(cls, tmp_path)
    failed = ShareGroupSessionError.from_dict(ERROR, ROOM, {("@counsellor:example.org", "LAPTOP")})
    await client.receive_response(failed)
    assert (client.access_token == "secret-token") is keeps
    if keeps:
        assert failed.room_id == ROOM and failed.soft_logout is False and failed.retry_after_ms is None
    await client.close()


async def test_a_real_soft_logout_still_logs_out(tmp_path: Path) -> None:
    from nio import SyncError

    client = _client(ResilientClient, tmp_path)
    await client.receive_response(SyncError("Access token has expired", "M_UNKNOWN_TOKEN", None, True))
    assert client.access_token == ""
    await client.close()


@pytest.mark.parametrize(("cls", "stuck"), [(AsyncClient, True), (ResilientClient, False)])
async def test_a_failed_key_claim_does_not_block_the_room(cls: type[AsyncClient], stuck: bool, tmp_path: Path) -> None:
    client = _client(cls, tmp_path)
    room = MatrixRoom(ROOM, client.user_id, encrypted=True)
    client.rooms[ROOM] = room

    async def claim_fails(_: object) -> None:
        raise ConnectionResetError("streams1 is down")

    client.get_missing_sessions = lambda _room: {"@counsellor:example.org": ["LAPTOP"]}
    client.keys_claim = claim_fails
    with pytest.raises(ConnectionResetError):
        await client.share_group_session(ROOM, ignore_unverified_devices=True)
    assert (ROOM in client.sharing_session) is stuck
    await client.close()
