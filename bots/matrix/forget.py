"""Forgetting purged rooms and a visitor's devices in matrix-nio (memory and crypto store).

What nio keeps that could decrypt a copy of a purged conversation or point at its visitor:
the Megolm sessions (inbound, with their forwarding chains, and outbound), key requests and
room entries of the rooms; the device keys, trust marks and Olm sessions of the visitor's
devices. nio has no API to delete them, so this works on its stores directly (the pinned
matrix-nio version's models; tests/e2e checks the crypto store after a purge).
"""

from __future__ import annotations

from typing import Any

from nio.store import models


def forget_in_memory(client: Any, rooms: set[str], users: set[str]) -> set[str]:
    """Drop the rooms and users from nio's memory; the Curve25519 keys of the users' devices."""
    olm = client.olm
    curve_keys: set[str] = set()
    if olm is not None:
        for room_id in rooms:
            olm.inbound_group_store._entries.pop(room_id, None)
            olm.outbound_group_sessions.pop(room_id, None)
        for user in users:
            devices = olm.device_store._entries.pop(user, {})
            curve_keys |= {device.curve25519 for device in devices.values()}
            olm.tracked_users.discard(user)
            olm.users_for_key_query.discard(user)
        for key in curve_keys:
            olm.session_store._entries.pop(key, None)
    for room_id in rooms:
        client.rooms.pop(room_id, None)
        client.encrypted_rooms.discard(room_id)
    return curve_keys


def forget_in_store(store: Any, rooms: set[str], users: set[str], curve_keys: set[str]) -> None:
    """Delete the rooms' and the users' rows from nio's crypto store, in one transaction.

    SQLite's ``secure_delete`` overwrites what is deleted, so the keys are not left readable
    in the file's free pages.
    """
    store.database.execute_sql("PRAGMA secure_delete = ON")
    with store.database.bind_ctx(store.models), store.database.atomic():
        inbound = models.MegolmInboundSessions
        sessions = [row.session_id for row in inbound.select().where(inbound.room_id.in_(rooms))]
        models.ForwardedChains.delete().where(models.ForwardedChains.session.in_(sessions)).execute()
        inbound.delete().where(inbound.session_id.in_(sessions)).execute()
        models.OutgoingKeyRequests.delete().where(models.OutgoingKeyRequests.room_id.in_(rooms)).execute()
        models.EncryptedRooms.delete().where(models.EncryptedRooms.room_id.in_(rooms)).execute()
        devices = [row.id for row in models.DeviceKeys.select().where(models.DeviceKeys.user_id.in_(users))]
        if devices:
            keys = models.Keys
            curve_keys |= {
                k.key for k in keys.select().where(keys.device.in_(devices) & (keys.key_type == "curve25519"))
            }
            keys.delete().where(keys.device.in_(devices)).execute()
            if models.DeviceTrustState in store.models:  # SqliteStore keeps trust in the database
                models.DeviceTrustState.delete().where(models.DeviceTrustState.device.in_(devices)).execute()
            models.DeviceKeys.delete().where(models.DeviceKeys.id.in_(devices)).execute()
        models.OlmSessions.delete().where(models.OlmSessions.sender_key.in_(curve_keys)).execute()
        if models.TrackedUsers in store.models:
            models.TrackedUsers.delete().where(models.TrackedUsers.user_id.in_(users)).execute()
    # nio's DefaultStore keeps device trust (verified, blacklisted, ignored: the trust policy
    # marks every device of a room's members) in text files beside the database.
    for name in ("trust_db", "blacklist_db", "ignore_db"):
        trust = getattr(store, name, None)
        if trust is not None:
            gone = [key for key in trust if key.user_id in users]
            if gone:
                trust.remove_many(gone)
