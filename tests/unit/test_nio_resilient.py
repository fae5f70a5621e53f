"""bots.matrix.resilient: one failed room-key share must not end a nio client or leave a
message unreadable (issue 27).

Each case runs against plain nio too, to show the fault is there without the fix (if a nio
release fixes it, the control assertion fails and the mend can go).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from nio import AsyncClient, AsyncClientConfig, MatrixRoom, ShareGroupSessionError, ToDeviceError, ToDeviceMessage
from nio.crypto import OlmDevice

from bots.matrix.resilient import ResilientClient, RoomKeyNotShared

ROOM = "!room:example.org"
ERROR = {"errcode": "M_UNKNOWN", "error": "Internal server error"}  # what a worker answers while PostgreSQL restarts


def _client(cls: type[AsyncClient], tmp_path: Path) -> AsyncClient:
    tmp_path.mkdir(exist_ok=True)
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


def _counsellor_device(client: AsyncClient, tmp_path: Path) -> AsyncClient:
    """A second client whose device ``client`` knows, trusts and has an Olm session with."""
    tmp_path.mkdir()
    other = AsyncClient(
        "http://127.0.0.1:9", "@counsellor:example.org", device_id="LAPTOP", store_path=str(tmp_path),
        config=AsyncClientConfig(encryption_enabled=True, store_sync_tokens=False),
    )  # fmt: skip
    other.restore_login("@counsellor:example.org", "LAPTOP", "other-token")
    other.olm.account.generate_one_time_keys(1)
    one_time_key = next(iter(other.olm.account.one_time_keys["curve25519"].values()))
    keys = other.olm.account.identity_keys
    device = OlmDevice(
        "@counsellor:example.org", "LAPTOP", {"ed25519": keys["ed25519"], "curve25519": keys["curve25519"]}
    )
    client.device_store.add(device)
    client.verify_device(device)
    client.olm.create_session(one_time_key, keys["curve25519"])
    room = MatrixRoom(ROOM, client.user_id, encrypted=True)
    room.add_member(client.user_id, None, None)
    room.add_member("@counsellor:example.org", None, None)
    client.rooms[ROOM] = room
    return other


async def _share(client: AsyncClient, *, fails: bool) -> None:
    """Share the room key; the mended client refuses a key that missed a device."""
    if fails:
        with pytest.raises(RoomKeyNotShared):
            await client.share_group_session(ROOM, ignore_unverified_devices=False)
    else:
        await client.share_group_session(ROOM, ignore_unverified_devices=False)


@pytest.mark.parametrize(("cls", "mended"), [(AsyncClient, False), (ResilientClient, True)])
async def test_a_room_key_that_missed_a_device_is_not_used(
    cls: type[AsyncClient], mended: bool, tmp_path: Path
) -> None:
    client = _client(cls, tmp_path / "visitor")
    other = _counsellor_device(client, tmp_path / "counsellor")

    async def bad_gateway(*_: object, **__: object) -> None:
        raise ConnectionResetError("502 while streams1 restarts")

    client._send = bad_gateway
    await _share(client, fails=mended)
    session = client.olm.outbound_group_sessions[ROOM]
    assert ("@counsellor:example.org", "LAPTOP") not in session.users_shared_with
    # Plain nio would now encrypt the next message with a key the counsellor never gets.
    assert session.shared is not mended
    await client.close()
    await other.close()


@contextlib.asynccontextmanager
async def _proxy_answering_502(client: AsyncClient) -> AsyncIterator[list[str]]:
    """What bench/faults saw at every streams1 restart, over real HTTP: Caddy answers a
    ``sendToDevice`` it could not pass on with a 502 and an empty body. Yields the paths sent."""
    sent: list[str] = []

    async def caddy_502(request: web.Request) -> web.Response:
        sent.append(request.path)
        return web.Response(status=502)

    app = web.Application()
    app.router.add_put("/_matrix/client/{version}/sendToDevice/{type}/{txn}", caddy_502)
    async with TestServer(app, host="127.0.0.1") as server:
        client.homeserver = str(server.make_url("")).rstrip("/")
        yield sent


@pytest.mark.parametrize(("cls", "mended"), [(AsyncClient, False), (ResilientClient, True)])
async def test_a_proxys_empty_502_is_not_a_delivered_room_key(
    cls: type[AsyncClient], mended: bool, tmp_path: Path
) -> None:
    client = _client(cls, tmp_path / "visitor")
    other = _counsellor_device(client, tmp_path / "counsellor")
    async with _proxy_answering_502(client) as sent:
        await _share(client, fails=mended)
    assert sent, "the room key was never sent"
    session = client.olm.outbound_group_sessions[ROOM]
    # Plain nio takes the 502 for a delivery and encrypts the next message with a key the
    # counsellor never gets.
    assert (("@counsellor:example.org", "LAPTOP") in session.users_shared_with) is not mended
    assert session.shared is not mended
    await client.close()
    await other.close()


async def test_any_empty_answer_with_an_error_status_is_an_error(tmp_path: Path) -> None:
    """Not only room keys: every request nio reads as ``{}`` (to-device, typing, receipts)."""
    client = _client(ResilientClient, tmp_path)
    async with _proxy_answering_502(client):
        response = await client.to_device(ToDeviceMessage("m.dummy", "@counsellor:example.org", "LAPTOP", {}), "t1")
    assert isinstance(response, ToDeviceError) and response.soft_logout is False
    assert client.access_token == "secret-token"
    await client.close()
