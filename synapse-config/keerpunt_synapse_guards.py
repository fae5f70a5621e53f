"""What a visitor token may do where Synapse's module API has no callback (SECURITY.md H.40).

Part of Keerpunt's Synapse module (keerpunt_synapse.py loads it; `keerpunt init` copies both
next to homeserver.yaml). Synapse 1.163 offers no callback for pushers, reports, device names,
to-device messages, account data or key backups, so each guard wraps the one handler (or store)
method that every client request for it goes through, as the profile guard does. The wrapped
methods are private parts of the pinned Synapse: if one is missing, the module refuses to load
rather than run without the guard, and tests/e2e/test_visitor_limits.py checks every guard
against a real Synapse. Staff, partners and the bots are never limited here.

- **Pushers** (``POST /pushers/set``): a visitor registers none. An HTTP pusher would make
  Synapse POST the sender, room and counts of every event in the case room to any URL the
  visitor names; the widget needs no push. Replacing another account's pusher (the ``append:
  false`` sweep by app ID and push key) is refused too.
- **Reports** (event, room and user reports): refused, not stripped. Even without its text a
  report is a row that ties the visitor's ID to the room, and the row outlives the room in
  Synapse's tables (nobody at Keerpunt reads Synapse's report queue: a visitor who wants to
  complain says so in the chat). Staff may report; the purge deletes what they filed about a
  case room (keerpunt_synapse_forget.py).
- **Device names**: a visitor's device is named with a neutral name only. A name given at login,
  registration or dehydration that is not one of ``visitor_device_names`` is replaced by the
  first of them (refusing would break the widget's login, whatever name a library sends); a
  rename (``PUT /devices/{id}``) to anything else is refused, so nobody can pose as
  "Keerpunt beheer - verifieer mij".
- **To-device messages** go only to the visitor's own devices and to the members (joined or
  invited) of the visitor's own rooms who are not visitors: the bots, the counsellor, a partner
  in a handover room. That is everything the widget sends (Olm-encrypted room keys, key
  requests, ``m.secret.*`` between its own devices, verification-free trust). Other recipients
  are dropped, the rest delivered, as Synapse drops an invalid recipient: refusing the whole
  request would make the client retry it for ever and hold back the keys for the legitimate
  recipients in the same batch.
- **Account data** (global, per room, tags): each item at most ``MAX_ACCOUNT_DATA_BYTES`` of
  JSON, at most ``MAX_GLOBAL_TYPES`` global types and ``MAX_ROOM_TYPES`` per room. The return
  code's secret storage uses about ten global types of well under 1 KB, plus one key per
  rotation (docs/return-code.md).
- **Key backup**: at most ``MAX_BACKUP_VERSIONS`` live versions and ``MAX_BACKUP_KEYS`` keys in
  one, each key's ``session_data`` at most ``MAX_SESSION_DATA_BYTES``. A case's backup holds one
  key per Megolm session in its rooms: tens, rarely hundreds.

A refusal is Synapse's ``M_FORBIDDEN`` with ``"nl.keerpunt.refused": "<what>"``; a bound that is
exceeded is ``M_RESOURCE_LIMIT_EXCEEDED`` (403) with the same field. Nothing here logs a user,
room or event ID.
"""

from __future__ import annotations

import inspect
import json
import logging
from collections.abc import Awaitable, Callable, Collection
from typing import Any

from synapse.api.errors import Codes, SynapseError
from synapse.module_api import ModuleApi
from synapse.module_api.errors import ConfigError

logger = logging.getLogger(__name__)

REFUSED = "nl.keerpunt.refused"
MAX_ACCOUNT_DATA_BYTES = 16 * 1024
MAX_GLOBAL_TYPES = 100
MAX_ROOM_TYPES = 10
MAX_BACKUP_VERSIONS = 5
MAX_BACKUP_KEYS = 5000
MAX_SESSION_DATA_BYTES = 4 * 1024
MEMBER = "m.room.member"


def refuse(what: str, message: str, *, bound: bool = False) -> SynapseError:
    logger.info("Refused a visitor account: %s", what)
    code = Codes.RESOURCE_LIMIT_EXCEEDED if bound else Codes.FORBIDDEN
    return SynapseError(403, message, code, {REFUSED: what})


def json_size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))


Guard = Callable[[inspect.BoundArguments], Awaitable[None]]


def wrap(owner: Any, name: str, guard: Guard) -> None:
    """Run ``guard`` on the bound arguments before every call of ``owner.name``."""
    original = getattr(owner, name, None)
    if not callable(original):
        raise ConfigError(f"keerpunt_synapse: this Synapse has no {type(owner).__name__}.{name}; refusing to start")
    signature = inspect.signature(original)

    async def guarded(*args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        await guard(bound)
        return await original(*bound.args, **bound.kwargs)

    setattr(owner, name, guarded)


class VisitorGuards:
    def __init__(self, api: ModuleApi, is_visitor: Callable[[str], bool], device_names: Collection[str]) -> None:
        self.api = api
        self.is_visitor = is_visitor
        self.device_names = [name.strip() for name in device_names]
        if not self.device_names:
            raise ConfigError("keerpunt_synapse: visitor_device_names must not be empty")

    def install(self) -> None:
        hs = self.api._hs
        pushers = hs.get_pusherpool()
        wrap(pushers, "add_or_update_pusher", self._pusher)
        wrap(pushers, "remove_pushers_by_app_id_and_pushkey_not_user", self._pusher_sweep)
        store = hs.get_datastores().main
        # Only the main process writes event reports (and the proxy sends it every report): a
        # worker's store has no such method, and there is nothing to guard on a worker.
        if hs.config.worker.worker_app is None or hasattr(store, "add_event_report"):
            wrap(store, "add_event_report", self._event_report)
        reports = hs.get_reports_handler()
        wrap(reports, "report_room", self._report)
        wrap(reports, "report_user", self._report)
        devices = hs.get_device_handler()
        wrap(devices, "check_device_registered", self._name_new_device)
        wrap(devices, "store_dehydrated_device", self._name_new_device)
        wrap(devices, "upsert_device", self._name_new_device)
        wrap(devices, "update_device", self._rename_device)
        wrap(hs.get_device_message_handler(), "send_device_message", self._to_device)
        account_data = hs.get_account_data_handler()
        wrap(account_data, "add_account_data_for_user", self._global_account_data)
        wrap(account_data, "add_account_data_to_room", self._room_account_data)
        wrap(account_data, "add_tag_to_room", self._room_account_data)
        backup = hs.get_e2e_room_keys_handler()
        wrap(backup, "create_version", self._backup_version)
        wrap(backup, "upload_room_keys", self._backup_keys)

    # --- pushers and reports --------------------------------------------------------------

    async def _pusher(self, call: inspect.BoundArguments) -> None:
        if self.is_visitor(call.arguments["user_id"]):
            raise refuse("pusher", "Visitor accounts cannot register pushers")

    async def _pusher_sweep(self, call: inspect.BoundArguments) -> None:
        if self.is_visitor(call.arguments["not_user_id"]):
            raise refuse("pusher", "Visitor accounts cannot register pushers")

    async def _event_report(self, call: inspect.BoundArguments) -> None:
        if self.is_visitor(call.arguments["user_id"]):
            raise refuse("report", "Visitor accounts cannot file reports")

    async def _report(self, call: inspect.BoundArguments) -> None:
        if self.is_visitor(call.arguments["requester"].user.to_string()):
            raise refuse("report", "Visitor accounts cannot file reports")

    # --- device names ---------------------------------------------------------------------

    async def _name_new_device(self, call: inspect.BoundArguments) -> None:
        key = "display_name" if "display_name" in call.arguments else "initial_device_display_name"
        name = call.arguments.get(key)
        if self.is_visitor(call.arguments["user_id"]) and name is not None and name.strip() not in self.device_names:
            logger.info("Gave a visitor's new device the neutral name")
            call.arguments[key] = self.device_names[0]

    async def _rename_device(self, call: inspect.BoundArguments) -> None:
        content = call.arguments["content"]
        name = content.get("display_name") if isinstance(content, dict) else None
        neutral = name is None or str(name).strip() in self.device_names
        if self.is_visitor(call.arguments["user_id"]) and not neutral:
            raise refuse("device_name", "Visitor accounts cannot name their devices")

    # --- to-device messages ---------------------------------------------------------------

    async def _to_device(self, call: inspect.BoundArguments) -> None:
        sender = call.arguments["requester"].user.to_string()
        messages = call.arguments["messages"]
        if not self.is_visitor(sender) or not isinstance(messages, dict):
            return
        allowed = await self._peers(sender)
        dropped = [user for user in messages if user not in allowed]
        if dropped:
            logger.info("Dropped to-device messages of a visitor to %d recipients outside its rooms", len(dropped))
            call.arguments["messages"] = {user: by_device for user, by_device in messages.items() if user in allowed}

    async def _peers(self, visitor: str) -> set[str]:
        """The visitor and every non-visitor member (joined or invited) of the rooms it is in."""
        store = self.api._store
        peers = {visitor}
        for room_id in await store.get_rooms_for_user(visitor):
            members = set(await store.get_users_in_room(room_id))
            members.update(await store.get_invited_users_in_room(room_id))
            peers.update(user for user in members if not self.is_visitor(user))
        return peers

    # --- account data and key backup ------------------------------------------------------

    def _check_item(self, content: Any) -> None:
        if json_size(content) > MAX_ACCOUNT_DATA_BYTES:
            raise refuse("account_data", "Account data item too large", bound=True)

    async def _global_account_data(self, call: inspect.BoundArguments) -> None:
        user_id = call.arguments["user_id"]
        if not self.is_visitor(user_id):
            return
        self._check_item(call.arguments["content"])
        existing = await self.api._store.get_global_account_data_for_user(user_id)
        if call.arguments["account_data_type"] not in existing and len(existing) >= MAX_GLOBAL_TYPES:
            raise refuse("account_data", "Too many kinds of account data", bound=True)

    async def _room_account_data(self, call: inspect.BoundArguments) -> None:
        user_id = call.arguments["user_id"]
        if not self.is_visitor(user_id):
            return
        self._check_item(call.arguments["content"])
        room_id = call.arguments["room_id"]
        if room_id not in await self.api._store.get_rooms_for_user(user_id):
            raise refuse("account_data", "Account data only for the visitor's own rooms")
        existing = dict((await self.api._store.get_room_account_data_for_user(user_id)).get(room_id, {}))
        tags = await self.api._store.get_tags_for_room(user_id, room_id)
        kind = call.arguments.get("account_data_type") or ("tag:" + str(call.arguments.get("tag")))
        kinds = set(existing) | {"tag:" + tag for tag in tags}
        if kind not in kinds and len(kinds) >= MAX_ROOM_TYPES:
            raise refuse("account_data", "Too many kinds of account data in this room", bound=True)

    async def _backup_version(self, call: inspect.BoundArguments) -> None:
        user_id = call.arguments["user_id"]
        if not self.is_visitor(user_id):
            return
        if json_size(call.arguments["version_info"]) > MAX_ACCOUNT_DATA_BYTES:
            raise refuse("key_backup", "Key backup version too large", bound=True)
        live = await self.api.run_db_interaction("keerpunt_backup_versions", _live_versions, user_id)
        if live >= MAX_BACKUP_VERSIONS:
            raise refuse("key_backup", "Too many key backup versions", bound=True)

    async def _backup_keys(self, call: inspect.BoundArguments) -> None:
        user_id, version = call.arguments["user_id"], call.arguments["version"]
        rooms = call.arguments["room_keys"].get("rooms") if isinstance(call.arguments["room_keys"], dict) else None
        if not self.is_visitor(user_id) or not isinstance(rooms, dict):
            return
        wanted: dict[str, dict[str, list[str]]] = {}
        for room_id, room in rooms.items():
            sessions = room.get("sessions") if isinstance(room, dict) else None
            if not isinstance(sessions, dict):
                continue
            for key in sessions.values():
                if json_size(key) > MAX_SESSION_DATA_BYTES:
                    raise refuse("key_backup", "Room key too large", bound=True)
            wanted[room_id] = {"sessions": list(sessions)}
        store = self.api._store
        known = await store.get_e2e_room_keys_multi(user_id, version, wanted)
        new = sum(len(set(r["sessions"]) - set(known.get(room_id, {}))) for room_id, r in wanted.items())
        if new and await store.count_e2e_room_keys(user_id, version) + new > MAX_BACKUP_KEYS:
            raise refuse("key_backup", "Key backup full", bound=True)


def _live_versions(txn: Any, user_id: str) -> int:
    txn.execute("SELECT COUNT(*) FROM e2e_room_keys_versions WHERE user_id = ? AND deleted = 0", (user_id,))
    row = txn.fetchone()
    return int(row[0]) if row else 0
