"""matrix-nio 0.26 faults that turn one failed request during an outage into a client that never
works again or into messages the other side can never read, found by bench/faults (issue 27)
and mended here for every nio client (the bots' and the test clients that play the widget and
Element).

1. ``ShareGroupSessionError.from_dict`` passes ``(error, errcode, room_id, users_shared_with)``
   positionally into fields ordered ``(message, status_code, retry_after_ms, soft_logout)``:
   the set of users already given the room key lands in ``soft_logout``, and
   ``receive_response`` clears the access token of any error with a truthy ``soft_logout``.
   One failed ``sendToDevice`` of a room key (PostgreSQL restarting, streams1 down) logs the
   client out locally; every later request is "Not logged in" or a 401 with an empty token.
2. ``share_group_session`` registers the room in ``sharing_session`` before claiming one-time
   keys, outside its ``try``/``finally``: when that claim fails (or the send is cancelled), the
   entry is never removed, every later ``room_send`` in the room waits on it for ever and
   ``share_group_session`` refuses with "Already sharing a group session".
3. ``share_group_session`` marks the room key shared even when a ``sendToDevice`` carrying it
   failed (a 502 while streams1 restarts) or a device was skipped for want of an Olm session
   (its key claim failed): the message is then encrypted with a key that device never gets,
   undecryptable for good. Here the key counts as shared only when every device of the room
   got it (or was left out on purpose); otherwise the send fails, the caller retries with the
   same transaction ID, and the retry shares the same key with the devices that missed it.
4. nio reads a response by its body alone, never its HTTP status: an answer that is not JSON
   becomes ``{}``, and ``{}`` is the whole answer of a request that succeeded with nothing to
   say (``sendToDevice``, typing, receipts...). A proxy's own error page is such an answer:
   Caddy's 502 for a ``sendToDevice`` while streams1 restarts (it cannot replay the request's
   body to the restarted worker) counted as the room key delivered, and every message sent
   with that key stayed undecryptable for the other side for good (bench/faults, streams1).
   Here an error status with an empty or non-JSON body becomes a Matrix error (``M_UNKNOWN``);
   the share then fails and is retried as in 3.
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import ClientResponse
from nio import AsyncClient, ErrorResponse, ShareGroupSessionError

log = logging.getLogger(__name__)
# Tries to give one room key to every device before it is used anyway (a device without any
# one-time or fallback key can never get an Olm session; it must not stop the room for ever).
SHARE_TRIES = 5


class RoomKeyNotShared(Exception):
    """A room key did not reach every device of the room; send again (same transaction ID)."""


class ResilientClient(AsyncClient):  # type: ignore[misc]  # nio ships no type hints
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._share_tries: dict[str, int] = {}  # outbound session ID → shares that missed a device

    async def parse_body(self, transport_response: ClientResponse) -> dict[Any, Any]:
        body = await super().parse_body(transport_response)
        status = transport_response.status
        if status >= 400 and not body:  # a 401 asking for auth has a body without ``errcode``: kept
            return {"errcode": "M_UNKNOWN", "error": f"HTTP {status} without a Matrix error (a proxy's)"}
        return body  # type: ignore[no-any-return]

    async def receive_response(self, response: Any) -> None:
        if isinstance(response, ShareGroupSessionError) and not isinstance(response.soft_logout, bool):
            response.room_id, response.users_shared_with = str(response.retry_after_ms), set(response.soft_logout)
            response.retry_after_ms, response.soft_logout = None, False
        elif isinstance(response, ErrorResponse) and response.soft_logout is not True:
            response.soft_logout = False  # only the server's own ``"soft_logout": true`` logs out
        await super().receive_response(response)

    async def share_group_session(self, room_id: str, *args: Any, **kwargs: Any) -> Any:
        before = self.sharing_session.get(room_id)
        try:
            response = await super().share_group_session(room_id, *args, **kwargs)
            self._check_shared(room_id)
            return response
        finally:
            left = self.sharing_session.get(room_id)
            if left is not None and left is not before:  # ours, left behind by a failed key claim
                del self.sharing_session[room_id]
                left.set()

    def _check_shared(self, room_id: str) -> None:
        session = self.olm.outbound_group_sessions.get(room_id)
        room = self.rooms.get(room_id)
        if session is None or room is None:
            return
        done = session.users_shared_with | session.users_ignored
        log.debug("room key %s of %s given to %s", session.id, room_id, sorted(session.users_shared_with))
        missed = [
            (user_id, device.id)
            for user_id in room.users
            for device in self.device_store.active_user_devices(user_id)
            if device.id != self.device_id and (user_id, device.id) not in done
        ]
        if not missed:
            self._share_tries.pop(session.id, None)
            return
        tries = self._share_tries[session.id] = self._share_tries.get(session.id, 0) + 1
        if tries >= SHARE_TRIES:
            log.warning("A room key missed %d device(s) %d times; sending anyway", len(missed), tries)
            return
        session.shared = False  # the next share gives the same key to the devices that missed it
        raise RoomKeyNotShared(f"the room key missed {len(missed)} device(s)")
