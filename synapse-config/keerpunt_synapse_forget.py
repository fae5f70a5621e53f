"""Forgetting a purged case in Synapse (SECURITY.md G.30, issue 23 N7).

Part of Keerpunt's Synapse module (keerpunt_synapse.py registers it). ``POST
/_synapse/client/keerpunt/v1/forget_user`` (``{"user_id": "@visitor-…"}``, a server admin's
access token): when a purged case's visitor account is erased, Synapse still remembers the
addresses and user agents that account used (``user_ips``, kept up to ``user_ips_max_age``) and,
until deactivation, its devices. This endpoint deletes those rows for a deactivated account at
once, so a purge leaves no address behind. It logs no user, room or event ID.
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
        deleted = await self.api.run_db_interaction("keerpunt_forget_user", _forget, user_id)
        respond_with_json(request, 200, {"deleted": deleted}, send_cors=False)


def _forget(txn: Any, user_id: str) -> dict[str, int]:
    counts = {}
    for table in ("user_ips", "devices", "e2e_device_keys_json", "e2e_one_time_keys_json", "e2e_fallback_keys_json"):
        txn.execute(f"DELETE FROM {table} WHERE user_id = ?", (user_id,))  # noqa: S608 - fixed table names
        counts[table] = txn.rowcount
    return counts
