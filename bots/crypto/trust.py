"""Which devices the bots trust: those cross-signed by their owner (DESIGN.md rule 3).

A device is trusted when ``/keys/query`` shows the chain device → self-signing key → master
key, every link signed, and the master key is the one pinned for that user the first time
the bots saw it (trust on first use, kept in the database). The bots share room keys only
with trusted devices of room members and ignore messages from any other device.

In matrix-nio's terms: before each send every device of the room's members is marked
verified (trusted) or blacklisted (anything else); nio then shares the room key only with
the verified ones, and rotates it when a mark changes.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from signedjson.key import decode_verify_key_bytes
from signedjson.sign import SignatureVerifyException, verify_signed_json
from unpaddedbase64 import decode_base64

from bots.clock import Clock, millis
from bots.db.pinned_identity import PinnedIdentityStore
from bots.ids import DeviceID, UserID

if TYPE_CHECKING:
    from nio import AsyncClient, Event
    from nio.crypto import InboundGroupSession

    from bots.homeserver.admin import SynapseAdmin

log = logging.getLogger(__name__)

# An untrusted device seen in the cache is looked up again when the entry is older than this.
RECHECK_UNTRUSTED_AFTER = 2.0
# A visitor returning with a code signs in on a new device and signs it a second or two later:
# messages to their room wait this long for it (expect_new_device) before they leave without it.
NEW_DEVICE_GRACE = 10.0


def _single_ed25519(key_obj: dict[str, Any] | None, usage: str, user_id: str) -> str | None:
    """The one Ed25519 public key of a cross-signing key object, if it is well formed."""
    if not isinstance(key_obj, dict) or key_obj.get("user_id") != user_id:
        return None
    if usage not in (key_obj.get("usage") or []):
        return None
    keys = key_obj.get("keys")
    if not isinstance(keys, dict) or len(keys) != 1:
        return None
    ((key_id, public),) = keys.items()
    if not isinstance(public, str) or key_id != f"ed25519:{public}":
        return None
    return public


def signed_by(obj: dict[str, Any], signer: str, public: str, key_name: str | None = None) -> bool:
    """Whether ``obj`` carries a valid signature by ``signer``'s Ed25519 key ``public``.

    Cross-signing keys are named by their public key; a device key by the device ID
    (``key_name``).
    """
    try:
        verify_key = decode_verify_key_bytes(f"ed25519:{key_name or public}", decode_base64(public))
        verify_signed_json(dict(obj), signer, verify_key)
    except (SignatureVerifyException, ValueError, TypeError, KeyError):
        return False
    return True


@dataclass(frozen=True)
class UserKeys:
    """One user's keys as ``/keys/query`` returned them."""

    user_id: UserID
    master: dict[str, Any] | None = None
    self_signing: dict[str, Any] | None = None
    devices: dict[str, dict[str, Any]] = field(default_factory=dict)
    identity_changed: bool = False

    @property
    def master_public(self) -> str | None:
        return _single_ed25519(self.master, "master", self.user_id)

    @property
    def self_signing_public(self) -> str | None:
        """The self-signing key, only if the master key signed it."""
        master = self.master_public
        ssk = _single_ed25519(self.self_signing, "self_signing", self.user_id)
        if master is None or ssk is None or self.self_signing is None:
            return None
        return ssk if signed_by(self.self_signing, self.user_id, master) else None


def parse_keys_query(data: dict[str, Any]) -> dict[UserID, UserKeys]:
    users: set[str] = set(data.get("device_keys") or {}) | set(data.get("master_keys") or {})
    out: dict[UserID, UserKeys] = {}
    for user in users:
        out[UserID(user)] = UserKeys(
            UserID(user),
            (data.get("master_keys") or {}).get(user),
            (data.get("self_signing_keys") or {}).get(user),
            dict((data.get("device_keys") or {}).get(user) or {}),
        )
    return out


def device_cross_signed(
    user: UserKeys,
    device_id: str,
    *,
    expected_master: str | None = None,
    curve25519: str | None = None,
    ed25519: str | None = None,
) -> bool:
    """Whether ``device_id`` is signed by its owner's self-signing key, itself signed by the master.

    ``expected_master`` pins the master key; ``curve25519``/``ed25519`` (when given) must
    match the device's published keys.
    """
    if user.identity_changed:
        return False
    master = user.master_public
    if master is None or (expected_master is not None and master != expected_master):
        return False
    ssk = user.self_signing_public
    device = user.devices.get(device_id)
    if ssk is None or not isinstance(device, dict):
        return False
    if device.get("user_id") != user.user_id or device.get("device_id") != device_id:
        return False
    keys = device.get("keys") or {}
    own_ed25519 = keys.get(f"ed25519:{device_id}")
    if not isinstance(own_ed25519, str):
        return False
    if curve25519 is not None and keys.get(f"curve25519:{device_id}") != curve25519:
        return False
    if ed25519 is not None and own_ed25519 != ed25519:
        return False
    return signed_by(device, user.user_id, own_ed25519, device_id) and signed_by(device, user.user_id, ssk)


@dataclass
class _Entry:
    keys: UserKeys
    fetched: float


class TrustPolicy:
    """Decides and applies device trust; caches ``/keys/query`` per user.

    ``forget`` drops users whose device list changed (from sync), so the next decision
    looks them up again.
    """

    def __init__(
        self,
        api: SynapseAdmin,
        pins: PinnedIdentityStore,
        clock: Clock,
        *,
        on_change: Callable[[UserID, str], Awaitable[None]] | None = None,
        on_pinned: Callable[[UserID], Awaitable[None]] | None = None,
    ) -> None:
        self.api = api
        self.pins = pins
        self.clock = clock
        self._cache: dict[UserID, _Entry] = {}
        self._expected: dict[UserID, tuple[float, frozenset[str]]] = {}
        # Told when a user's master key differs from the pinned one (the concerns' hooks).
        self.on_change = on_change
        # Told when a user's identity is pinned (first seen, or the first after a reset).
        self.on_pinned = on_pinned

    def forget(self, users: Iterable[str]) -> None:
        for user in users:
            self._cache.pop(UserID(user), None)

    def drop(self, users: Iterable[str]) -> None:
        """Forget ``users`` for good (their case ended): cached keys and unsigned devices."""
        gone = {UserID(u) for u in users}
        self.forget(gone)
        for user in gone:
            self._expected.pop(user, None)

    async def expect_new_device(self, user: UserID) -> None:
        """``user`` is about to sign in on a new device and sign it (a visitor returning with a
        code): until a signed device appears that is not there now, or NEW_DEVICE_GRACE passed,
        ``settling`` holds messages to their rooms. The bot may not even know of the device yet
        when it sends, so the first-seen-unsigned rule alone cannot catch it."""
        known = await self.cross_signed_devices(user)
        self._expected[user] = (self.clock.monotonic(), frozenset(known))

    def settling(self, users: Iterable[str]) -> bool:
        """Whether one of ``users`` is expected on a new device not signed yet (after ``apply``,
        which refreshes their keys): a send to their room waits for it."""
        members = {UserID(u) for u in users}
        now = self.clock.monotonic()
        for user in [u for u, (since, _) in self._expected.items() if now - since >= NEW_DEVICE_GRACE]:
            del self._expected[user]  # kept no longer than the grace, whoever's room is sent to
        for user in members & self._expected.keys():
            _, known = self._expected[user]
            entry = self._cache.get(user)
            signed_new = entry is not None and any(
                device not in known and device_cross_signed(entry.keys, device) for device in entry.keys.devices
            )
            if signed_new:
                del self._expected[user]
            else:
                return True
        return False

    async def refresh(self, users: Iterable[UserID]) -> None:
        wanted = sorted(set(users))
        if not wanted:
            return
        body: dict[str, Any] = {"device_keys": {u: [] for u in wanted}}
        data = await self.api.request("POST", "/_matrix/client/v3/keys/query", body, label="keys/query (trust)")
        parsed = parse_keys_query(data)
        now = self.clock.monotonic()
        for user in wanted:
            keys = parsed.get(user, UserKeys(user))
            master = keys.master_public
            if master is not None:
                pinned, new = await self.pins.pin(user, master, millis(self.clock))
                if new and self.on_pinned is not None:
                    await self.on_pinned(user)
                if pinned != master:
                    log.warning("A cross-signing identity changed; its devices are no longer trusted")
                    keys = replace(keys, identity_changed=True)
                    if self.on_change is not None:
                        await self.on_change(user, master)
            self._cache[user] = _Entry(keys, now)

    async def _keys(self, user: UserID) -> _Entry:
        entry = self._cache.get(user)
        if entry is None:
            await self.refresh([user])
            entry = self._cache[user]
        return entry

    async def cross_signed_devices(self, user: UserID) -> set[str]:
        """The devices of ``user`` cross-signed by the pinned identity, looked up now."""
        await self.refresh([user])
        keys = self._cache[user].keys
        return {device for device in keys.devices if device_cross_signed(keys, device)}

    async def all_devices_cross_signed(self, user: UserID) -> bool:
        """Whether ``user`` has devices and every one of them is cross-signed by the pinned
        identity, looked up now (for an unencrypted event, which names no device)."""
        await self.refresh([user])
        keys = self._cache[user].keys
        return bool(keys.devices) and all(device_cross_signed(keys, device) for device in keys.devices)

    async def trusted_sender(self, user: UserID, curve25519: str, ed25519: str | None) -> DeviceID | None:
        """The cross-signed device of ``user`` owning these keys, or None.

        Used for incoming messages: the keys are those of the Megolm session the message was
        encrypted with. A miss is looked up once more (the sender may have just signed).
        """
        entry = await self._keys(user)
        found = self._find(entry.keys, curve25519, ed25519)
        if found is None and self.clock.monotonic() - entry.fetched > 0.05:
            await self.refresh([user])
            found = self._find(self._cache[user].keys, curve25519, ed25519)
        return found

    @staticmethod
    def _find(keys: UserKeys, curve25519: str, ed25519: str | None) -> DeviceID | None:
        for device_id in keys.devices:
            if device_cross_signed(keys, device_id, curve25519=curve25519, ed25519=ed25519):
                return DeviceID(device_id)
        return None

    async def sent_by_trusted_device(self, client: AsyncClient, room_id: str, event: Event) -> bool:
        """Whether a decrypted room event was sent by a cross-signed device of its sender.

        The device is the owner of the Megolm session the event was encrypted with, as nio
        received it first-hand: a forwarded key says nothing about who sent the message.
        """
        session = _first_hand_session(client, room_id, event)
        if session is None:
            return False
        return await self.trusted_sender(UserID(event.sender), session.sender_key, session.ed25519) is not None

    def was_sent_by_trusted_device(self, client: AsyncClient, room_id: str, event: Event) -> bool:
        """Whether an event read again later (``/messages``) came, first-hand, from a device this
        policy marked verified while it existed: the store keeps a signed-out device and its mark."""
        session = _first_hand_session(client, room_id, event)
        if session is None:
            return False
        devices = client.device_store[event.sender].values() if event.sender in client.device_store.users else []
        return any(d.curve25519 == session.sender_key and d.ed25519 == session.ed25519 and d.verified for d in devices)

    async def apply(self, client: AsyncClient, users: Iterable[str]) -> None:
        """Mark every known device of ``users`` verified (cross-signed) or blacklisted in nio."""
        assert client.olm is not None
        members = sorted({UserID(u) for u in users})
        await self.refresh([user for user in members if self._stale(client, user)])
        for user in members:
            keys = self._cache[user].keys
            for device in client.device_store.active_user_devices(user):
                if device.id == client.device_id and user == client.user_id:
                    continue
                trusted = device_cross_signed(keys, device.id, curve25519=device.curve25519, ed25519=device.ed25519)
                _mark(client, device, trusted=trusted)

    def _stale(self, client: AsyncClient, user: UserID) -> bool:
        """Whether ``user`` must be looked up again: unknown, a new device, or untrusted for a while."""
        entry = self._cache.get(user)
        if entry is None:
            return True
        old = self.clock.monotonic() - entry.fetched > RECHECK_UNTRUSTED_AFTER
        for device in client.device_store.active_user_devices(user):
            if device.id not in entry.keys.devices:
                return True
            if old and not device_cross_signed(entry.keys, device.id):
                return True
        return False


def _mark(client: AsyncClient, device: Any, *, trusted: bool) -> None:
    """Set nio's flags; nio rotates the room key of shared rooms when a flag changes."""
    if trusted:
        if client.olm.is_device_blacklisted(device):
            client.unblacklist_device(device)
        if not client.olm.is_device_verified(device):
            client.verify_device(device)
    else:
        if client.olm.is_device_verified(device):
            client.unverify_device(device)
        if not client.olm.is_device_blacklisted(device):
            client.blacklist_device(device)


def _first_hand_session(client: AsyncClient, room_id: str, event: Event) -> InboundGroupSession | None:
    """The Megolm session a room event was encrypted with, if nio received it first-hand (a
    forwarded key says nothing about who sent the message); None otherwise."""
    sender_key = getattr(event, "sender_key", None)
    session_id = getattr(event, "session_id", None)
    if not sender_key or not session_id or client.olm is None:
        return None
    session = client.olm.inbound_group_store.get(room_id, sender_key, session_id)
    if session is None or session.forwarding_chain:
        return None
    return session
