"""The system bot's matrix-nio client: one stable device with a persistent crypto store.

The device and its access token come from ``session.json`` (``bots.homeserver.account``); the Olm
account, sessions and room keys live in ``<store_dir>/crypto`` (SQLite), pickled with a key
kept in a secret file beside it. The client never logs out: on shutdown it only closes its
HTTP connections, so the next start is the same device with the same keys.
"""

from __future__ import annotations

import logging
import os
import secrets
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from nio import AsyncClientConfig, KeysUploadError

from bots.homeserver.account import BotSession
from bots.matrix.forget import forget_in_memory, forget_in_store
from bots.matrix.resilient import ResilientClient
from bots.timing import TIMINGS

log = logging.getLogger(__name__)

PICKLE_KEY_FILE = "crypto_pickle_key"


class BotClient(ResilientClient):
    """An AsyncClient whose crypto store changes per sync batch are atomic, and whose requests are timed.

    nio saves an Olm session as soon as a to-device message is decrypted and the Megolm key
    it carried a moment later, each in its own SQLite commit. A SIGKILL between the two
    loses the room key for good: the message is delivered again after the restart (the
    sync token was not persisted), but the saved Olm session can no longer decrypt it.
    Committing everything nio stores while handling one sync response in one transaction
    closes that window: after a kill either nothing of the batch was stored (and the replay
    decrypts it again) or all of it was (and the replay's Olm failure costs nothing).
    """

    # From the last sync: the key types with an unused fallback key on the server (nio
    # does not parse it; see bots.matrix.fallback). None until a sync told us.
    unused_fallback_key_types: list[str] | None = None

    async def parse_body(self, transport_response: Any) -> dict[Any, Any]:
        data: dict[Any, Any] = await super().parse_body(transport_response)
        if isinstance(data, dict) and "next_batch" in data:  # a sync response
            unused = data.get("device_unused_fallback_key_types")
            if unused is None:
                unused = data.get("org.matrix.msc2732.device_unused_fallback_key_types")
            if isinstance(unused, list):
                self.unused_fallback_key_types = [str(u) for u in unused]
        return data

    # One undecryptable to-device message or event must never stop the sync: nio lets some
    # vodozemac errors through (a pre-key message naming an unknown one-time key raises
    # SessionCreationException), which would fail the batch again after every restart.
    def _handle_decrypt_to_device(self, to_device_event: Any) -> Any:
        try:
            return super()._handle_decrypt_to_device(to_device_event)
        except Exception as exc:
            log.warning("Skipping a to-device message that cannot be decrypted (%s)", type(exc).__name__)
            return None

    def _handle_timeline_event(self, event: Any, room_id: str, room: Any, encrypted_rooms: set[str]) -> Any:
        try:
            return super()._handle_timeline_event(event, room_id, room, encrypted_rooms)
        except Exception as exc:
            log.warning("Leaving a room event undecrypted after an error (%s)", type(exc).__name__)
            return None

    async def _handle_sync(self, response: Any) -> None:
        store = self.store
        if store is None:
            await super()._handle_sync(response)
            return
        # nio's sync handling does not yield to the event loop (no callbacks are
        # registered), so no other task's store writes can slip into this transaction.
        failure: Exception | None = None
        with store.database.atomic():  # nio's own atomic writes nest as savepoints
            try:
                await super()._handle_sync(response)
            except Exception as exc:
                # Commit anyway: nio's memory already holds these sessions, and a rollback
                # would leave the store behind it.
                failure = exc
        if failure is not None:
            raise failure

    def forget(self, rooms: Iterable[str], users: Iterable[str]) -> None:
        """Forget purged rooms and a visitor's devices in memory and in the crypto store
        (``bots.matrix.forget``): a purged case leaves no key that could decrypt a copy of it."""
        rooms, users = set(rooms), set(users)
        curve_keys = forget_in_memory(self, rooms, users)
        if self.store is not None:
            forget_in_store(self.store, rooms, users, curve_keys)

    async def _send(self, response_class: type, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return await super()._send(response_class, *args, **kwargs)
        finally:
            TIMINGS.record(f"nio {response_class.__name__}", time.perf_counter() - started)


def _pickle_key(store_dir: Path) -> str:
    path = store_dir / PICKLE_KEY_FILE
    if path.exists():
        return path.read_text("utf-8").strip()
    key = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(key)
        fh.flush()
        os.fsync(fh.fileno())
    return key


async def open_client(homeserver: str, session: BotSession, store_dir: Path) -> BotClient:
    """Restore the bot's device from its store and make sure its keys are uploaded."""
    crypto = store_dir / "crypto"
    crypto.mkdir(parents=True, exist_ok=True, mode=0o700)
    config = AsyncClientConfig(
        encryption_enabled=True,
        # The bots persist the sync token themselves, only after a batch is fully handled.
        store_sync_tokens=False,
        pickle_key=_pickle_key(store_dir),
        # Surface connection failures to the caller's backoff instead of retrying forever.
        max_timeouts=2,
        request_timeout=30,
    )
    client = BotClient(homeserver, session.user_id, device_id=session.device_id, store_path=str(crypto), config=config)
    client.restore_login(session.user_id, session.device_id, session.access_token)
    if client.olm is None:
        raise RuntimeError("matrix-nio was installed without encryption support (pip install matrix-nio[e2e])")
    if client.should_upload_keys:
        resp = await client.keys_upload()
        if isinstance(resp, KeysUploadError):
            await client.close()
            raise RuntimeError(f"uploading the bot's device keys failed: {resp.message}")
        log.info("Uploaded the device keys of %s", session.device_id)
    return client
