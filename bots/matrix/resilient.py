"""Two matrix-nio 0.26 faults that turn one failed request during an outage into a client that
never works again, found by bench/faults (issue 27) and mended here for every nio client
(the bots' and the test clients that play the widget and Element).

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
"""

from __future__ import annotations

from typing import Any

from nio import AsyncClient, ErrorResponse, ShareGroupSessionError


class ResilientClient(AsyncClient):  # type: ignore[misc]  # nio ships no type hints
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
            return await super().share_group_session(room_id, *args, **kwargs)
        finally:
            left = self.sharing_session.get(room_id)
            if left is not None and left is not before:  # ours, left behind by a failed key claim
                del self.sharing_session[room_id]
                left.set()
