"""What a visitor's browser does, done with nio: start a session, join, speak first, read.

The visitor client is strict like the widget (OnlySignedDevicesIsolationMode): it sends
room keys only to devices their owner cross-signed. That check is done here with
``signedjson`` directly, independent of the bots' own trust module.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import aiohttp
import altcha
from nio import AsyncClient, MegolmEvent, RoomMessageText, RoomSendResponse
from signedjson.key import decode_verify_key_bytes
from signedjson.sign import SignatureVerifyException, verify_signed_json
from unpaddedbase64 import decode_base64

from .bots import ORIGIN
from .matrix_clients import ClientFactory, TestUser

# Large enough that a burst of messages never makes the visitor's timeline "limited".
TIMELINE_FILTER = {"room": {"timeline": {"limit": 500}}}


async def post_session(
    api: str,
    body: Any = None,
    *,
    origin: str | None = ORIGIN,
    headers: dict[str, str] | None = None,
    data: bytes | None = None,
    path: str = "/api/v1/sessions",
    http: aiohttp.ClientSession | None = None,
) -> tuple[int, Any, aiohttp.typedefs.LooseHeaders]:
    """POST to the session API; returns (status, JSON body or None, headers)."""
    hdrs = {"Content-Type": "application/json", **(headers or {})}
    if origin is not None:
        hdrs["Origin"] = origin
    payload = data if data is not None else (None if body is None else json.dumps(body).encode())
    own = http is None
    session = http or aiohttp.ClientSession()
    try:
        async with session.post(api + path, data=payload, headers=hdrs) as resp:
            raw = await resp.read()
            parsed = json.loads(raw) if raw else None
            return resp.status, parsed, resp.headers
    finally:
        if own:
            await session.close()


async def prove_work(
    api: str, http: aiohttp.ClientSession | None = None, headers: dict[str, str] | None = None
) -> str | None:
    """As the widget does before a start: ask for the proof of work and solve it (altcha's own
    solver here, the same algorithm the widget's altcha-lib runs); None when none is asked."""
    own = http is None
    session = http or aiohttp.ClientSession()
    try:
        async with session.get(api + "/api/v1/sessions/challenge", headers=headers or {}) as resp:
            assert resp.status == 200, resp.status
            data = await resp.json()
    finally:
        if own:
            await session.close()
    if data["challenge"] is None:
        return None
    challenge = altcha.Challenge.from_dict(data["challenge"])
    solution = await asyncio.to_thread(altcha.solve_challenge, challenge)
    assert solution is not None
    return str(altcha.Payload(challenge, solution).to_base64())


async def new_session(api: str, language: str = "nl", **extra: Any) -> dict[str, Any]:
    """A started session, as the widget starts one (with the proof of work when it is asked)."""
    body: dict[str, Any] = {"language": language, "entry": "widget", **extra}
    proof = await prove_work(api, headers={"Origin": ORIGIN})
    if proof is not None:
        body["challenge"] = proof
    status, data, _ = await post_session(api, body)
    assert status == 201, (status, data)
    return dict(data)


def _signed(obj: dict[str, Any], user: str, public: str) -> bool:
    try:
        verify_signed_json(dict(obj), user, decode_verify_key_bytes(f"ed25519:{public}", decode_base64(public)))
    except SignatureVerifyException:
        return False
    return True


def cross_signed_by_owner(keys_query: dict[str, Any], user: str, device_id: str) -> bool:
    """device → self-signing key → master key, each link signed (an independent check)."""
    master = keys_query.get("master_keys", {}).get(user)
    ssk = keys_query.get("self_signing_keys", {}).get(user)
    device = keys_query.get("device_keys", {}).get(user, {}).get(device_id)
    if not master or not ssk or not device:
        return False
    (master_pub,) = master["keys"].values()
    (ssk_pub,) = ssk["keys"].values()
    return _signed(ssk, user, master_pub) and _signed(device, user, ssk_pub)


async def keys_query(client: AsyncClient, users: list[str]) -> dict[str, Any]:
    # The client's own HTTP session when it has one (the compose stack's: its CA, its names).
    own = client.client_session is None
    http = aiohttp.ClientSession() if own else client.client_session
    assert http is not None
    try:
        async with http.post(
            client.homeserver + "/_matrix/client/v3/keys/query",
            json={"device_keys": {u: [] for u in users}},
            headers={"Authorization": f"Bearer {client.access_token}"},
        ) as resp:
            assert resp.status == 200
            return dict(await resp.json())
    finally:
        if own:
            await http.close()


async def sync_until(client: AsyncClient, check: Any, within: float = 20.0) -> None:
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, "timed out syncing"
        await client.sync(timeout=500, full_state=client.next_batch is None)


async def join(visitor: TestUser, room_id: str, bot: str) -> None:
    resp = await visitor.client.join(room_id)
    assert getattr(resp, "room_id", None) == room_id, resp
    await sync_until(
        visitor.client,
        lambda: room_id in visitor.client.rooms and bot in visitor.client.rooms[room_id].users,
    )


async def trust_strictly(visitor: TestUser, room_id: str) -> None:
    """Verify cross-signed devices of the room's members and blacklist the rest (strict mode)."""
    client = visitor.client
    room = client.rooms[room_id]
    await client.joined_members(room_id)
    await client.keys_query() if client.should_query_keys else None
    users = list(room.users)
    query = await keys_query(client, users)
    for user in users:
        for device in client.device_store.active_user_devices(user):
            if device.id == client.device_id:
                continue
            if cross_signed_by_owner(query, user, device.id):
                client.verify_device(device)
            else:
                client.blacklist_device(device)


async def send(
    visitor: TestUser, room_id: str, event_type: str, content: dict[str, Any], txn: str | None = None
) -> str:
    await trust_strictly(visitor, room_id)
    resp = await visitor.client.room_send(room_id, event_type, content, tx_id=txn)
    assert isinstance(resp, RoomSendResponse), resp
    return str(resp.event_id)


async def speak_first(visitor: TestUser, room_id: str, language: str = "nl") -> str:
    return await send(visitor, room_id, "nl.keerpunt.start", {"language": language})


async def messages_from(
    visitor: TestUser, room_id: str, sender: str, *, count: int = 1, within: float = 20.0
) -> tuple[list[RoomMessageText], list[MegolmEvent]]:
    """Sync until ``count`` decrypted messages from ``sender`` arrived; also return undecryptable ones."""
    client = visitor.client
    got: list[RoomMessageText] = []
    failed: dict[str, MegolmEvent] = {}
    deadline = time.monotonic() + within
    while len(got) < count and time.monotonic() < deadline:
        resp = await client.sync(timeout=500, sync_filter=TIMELINE_FILTER)
        room = getattr(resp, "rooms", None)
        events = room.join[room_id].timeline.events if room is not None and room_id in room.join else []
        for event in events:
            if event.sender != sender:
                continue
            if isinstance(event, RoomMessageText):
                got.append(event)
            elif isinstance(event, MegolmEvent):
                failed[event.event_id] = event
        for event_id, event in list(failed.items()):  # a key may arrive a batch later
            try:
                decrypted = client.decrypt_event(event)
            except Exception:  # noqa: S112 - still no key
                continue
            if isinstance(decrypted, RoomMessageText):
                got.append(decrypted)
                del failed[event_id]
    return got, list(failed.values())


async def start_and_greet(
    factory: ClientFactory, api: str, bot: str, language: str = "nl"
) -> tuple[dict[str, Any], TestUser, RoomMessageText]:
    """The whole happy path: session → cross-signed visitor → join → start → greeting."""
    session = await new_session(api, language)
    visitor = await factory.visitor(session)
    await join(visitor, session["room_id"], bot)
    await speak_first(visitor, session["room_id"], language)
    got, failed = await messages_from(visitor, session["room_id"], bot)
    assert not failed, "the greeting could not be decrypted"
    assert len(got) == 1, "no greeting arrived"
    return session, visitor, got[0]
