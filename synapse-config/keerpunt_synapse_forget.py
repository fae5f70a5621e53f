"""Forgetting a purged case in Synapse (SECURITY.md G.30, issue 23 N7).

Part of Keerpunt's Synapse module (keerpunt_synapse.py registers it). ``POST
/_synapse/client/keerpunt/v1/forget_user`` (``{"user_id": "@visitor-…"}``, a server admin's
access token), called by the bots' purge after the case's rooms were purged and the visitor's
account deactivated with erase. Synapse's own purge and erasure leave rows behind that name the
visitor or the purged rooms (measured by tests/e2e/test_purge_synapse_tables.py, which walks every
table); this endpoint deletes them for a deactivated account at once:

- the account itself (``users``, ``erased_users``, ``user_stats_current``): Synapse never
  deletes a user, so that an ID is never given out twice; visitor IDs are random (128 bits) in
  an application service's exclusive namespace, so none is ever registered again;
- the addresses and user agents the account used (``user_ips``, kept up to
  ``user_ips_max_age``, and the pending batch of them in memory), its devices, device and
  cross-signing keys, signatures, device-list stream rows and to-device messages from or to it;
- membership history of it (``current_state_delta_stream``, never pruned by Synapse);
- and, for every room that no longer exists (a purged room): reports about it
  (``event_reports``, ``room_reports``, which ``purge_room`` keeps on purpose), its state and
  device-list change streams, the device-list converter's cursor if it points there, and the
  finished purge task that names it.

What remains is outside Synapse's database (media files a counsellor sent, encrypted, until the
media retention ends) or outside this endpoint (see docs/privacy.md). It logs no user, room or
event ID.
"""

from __future__ import annotations

import logging
from typing import Any

from synapse.api.errors import Codes, SynapseError
from synapse.http.server import DirectServeJsonResource, respond_with_json
from synapse.http.servlet import parse_json_object_from_request
from synapse.module_api import ModuleApi

logger = logging.getLogger(__name__)

FORGET_PATH = "/_synapse/client/keerpunt/v1/forget_user"
FORGET_ROOMS_PATH = "/_synapse/client/keerpunt/v1/forget_rooms"


class ForgetUser(DirectServeJsonResource):
    def __init__(self, api: ModuleApi) -> None:
        super().__init__()
        self.api = api

    async def _async_render_POST(self, request: Any) -> None:
        requester = await self.api.get_user_by_req(request)
        if not await self.api.is_user_admin(requester.user.to_string()):
            raise SynapseError(403, "Only a server admin may do this", Codes.FORBIDDEN)
        body = parse_json_object_from_request(request)
        user_id = body.get("user_id")
        if not isinstance(user_id, str) or not user_id.startswith("@"):
            raise SynapseError(400, "user_id is required", Codes.BAD_JSON)
        user = await self.api.get_userinfo_by_id(user_id)
        if user is None:
            raise SynapseError(404, "Unknown user", Codes.NOT_FOUND)
        if not user.is_deactivated:
            raise SynapseError(400, "Only a deactivated account is forgotten", Codes.INVALID_PARAM)
        store = self.api._store  # the pending batch of client-IP writes lives on the store
        pending = getattr(store, "_batch_row_update", None)
        if isinstance(pending, dict):
            for key in [key for key in pending if key[0] == user_id]:
                del pending[key]
        deleted = await self.api.run_db_interaction("keerpunt_forget_user", _forget, store, user_id)
        respond_with_json(request, 200, {"deleted": deleted}, send_cors=False)


class ForgetRooms(DirectServeJsonResource):
    """``POST …/forget_rooms`` (``{}``, a server admin's token): the rows of every room that no
    longer exists (a purged room), as ``forget_user`` deletes them, without a user. The bots
    call it after purging a retired staff Space (its ``m.space.child`` state named case rooms)."""

    def __init__(self, api: ModuleApi) -> None:
        super().__init__()
        self.api = api

    async def _async_render_POST(self, request: Any) -> None:
        requester = await self.api.get_user_by_req(request)
        if not await self.api.is_user_admin(requester.user.to_string()):
            raise SynapseError(403, "Only a server admin may do this", Codes.FORBIDDEN)
        store = self.api._store
        deleted = await self.api.run_db_interaction("keerpunt_forget_rooms", _forget_rooms, store)
        respond_with_json(request, 200, {"deleted": deleted}, send_cors=False)


# Rows keyed to the user, by the column that names it.
USER_ROWS = (
    ("user_ips", "user_id"),
    ("devices", "user_id"),
    ("e2e_device_keys_json", "user_id"),
    ("e2e_one_time_keys_json", "user_id"),
    ("e2e_fallback_keys_json", "user_id"),
    ("e2e_cross_signing_keys", "user_id"),
    ("e2e_cross_signing_signatures", "user_id"),
    ("e2e_cross_signing_signatures", "target_user_id"),
    ("user_signature_stream", "from_user_id"),
    ("device_inbox", "user_id"),
    ("device_lists_stream", "user_id"),
    ("device_lists_changes_in_room", "user_id"),
    ("current_state_delta_stream", "state_key"),
    ("user_stats_current", "user_id"),
    ("erased_users", "user_id"),
    ("users", "name"),
)
# Rows of rooms that are gone (purged): their room ID is in no ``rooms`` row any more.
ROOM_ROWS = ("event_reports", "room_reports", "current_state_delta_stream", "device_lists_changes_in_room")
GONE = "room_id NOT IN (SELECT room_id FROM rooms)"
DONE = "status IN ('complete', 'failed')"
CACHED = ("get_user_by_id", "get_userinfo_by_id", "is_user_erased", "get_user_deactivated_status")


def _forget(txn: Any, store: Any, user_id: str) -> dict[str, int]:
    counts: dict[str, int] = {}

    def run(name: str, sql: str, args: tuple[Any, ...] = ()) -> None:
        txn.execute(sql, args)
        counts[name] = counts.get(name, 0) + max(txn.rowcount, 0)

    # Fixed table and column names only (no input) in the statements below.
    for table, column in USER_ROWS:
        run(table, f"DELETE FROM {table} WHERE {column} = ?", (user_id,))  # noqa: S608
    # To-device messages the visitor sent that a staff device has not fetched yet.
    run("device_inbox", "DELETE FROM device_inbox WHERE message_json LIKE ?", (f'%"sender":"{user_id}"%',))
    # Finished background tasks about the user (Synapse keeps them a week).
    mention = f"%{user_id}%"
    run(
        "scheduled_tasks",
        f"DELETE FROM scheduled_tasks WHERE {DONE} AND (resource_id = ? OR params LIKE ? OR result LIKE ?)",  # noqa: S608
        (user_id, mention, mention),
    )
    for table, count in _forget_rooms(txn, store).items():
        counts[table] = counts.get(table, 0) + count
    invalidate = getattr(store, "_invalidate_cache_and_stream", None)
    for name in CACHED:
        cached = getattr(store, name, None)
        if callable(invalidate) and cached is not None and hasattr(cached, "invalidate"):
            invalidate(txn, cached, (user_id,))
    return counts


def _forget_rooms(txn: Any, store: Any) -> dict[str, int]:
    """The rows of every room that no longer exists (fixed table names only, no input)."""
    counts: dict[str, int] = {}

    def run(name: str, sql: str) -> None:
        txn.execute(sql)
        counts[name] = counts.get(name, 0) + max(txn.rowcount, 0)

    for table in ROOM_ROWS:
        run(table, f"DELETE FROM {table} WHERE {GONE}")  # noqa: S608
    run(
        "device_lists_changes_converted_stream_position",
        f"UPDATE device_lists_changes_converted_stream_position SET room_id = '' WHERE {GONE}",  # noqa: S608
    )
    # Finished background tasks about a purged room (Synapse keeps them a week).
    run(
        "scheduled_tasks",
        f"DELETE FROM scheduled_tasks WHERE {DONE} AND resource_id LIKE '!%' "  # noqa: S608
        "AND resource_id NOT IN (SELECT room_id FROM rooms)",
    )
    return counts
