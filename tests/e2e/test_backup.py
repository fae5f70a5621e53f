"""`keerpunt backup` and `restore` on PostgreSQL (issue 16): a conversation, an encrypted backup,
the databases and key files lost, a restore into empty databases on a freshly initialised data
directory, and the visitor and counsellor talk on without a decryption failure; a new visitor
starts too. The backup holds nothing in clear."""

from __future__ import annotations

import asyncio
import json
import secrets
import shutil
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from bots.visitors.invites import secret_key
from keerpunt.backup import SYNAPSE_SKIP_DATA, BackupError, backup, new_identity, restore, signing_key_path
from keerpunt.synapse_config import init_synapse, synapse_dir
from tests.support.bots import InProcessBots, bots_config
from tests.support.matrix_clients import ClientFactory
from tests.support.plugin import POSTGRES_URL
from tests.support.staff import add_counsellor
from tests.support.synapse import start_synapse
from tests.support.triage import answer_all, start_visitor

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not POSTGRES_URL, reason="backups are for PostgreSQL (KEERPUNT_TEST_POSTGRES_URL)"),
]

ANSWERS = {"audience": "self", "danger": "no", "topic": "debts", "region": "utrecht"}
BEFORE = "Ik schrijf dit voor de back-up"
AFTER = "En dit na het terugzetten"


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(POSTGRES_URL)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _new_database(prefix: str) -> str:
    name = f"{prefix}_{secrets.token_hex(4)}"
    await _admin(f"CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'")
    parts = urlsplit(POSTGRES_URL)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))


async def _recreate_empty(url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    await _admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    await _admin(f"CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'")


async def test_a_restored_platform_talks_on_without_decryption_failures(tmp_path: Path) -> None:
    data = tmp_path / "data"
    synapse = await asyncio.to_thread(start_synapse, data, postgres_admin_url=POSTGRES_URL)
    assert synapse.database_url is not None
    bots_db = await _new_database("keerpunt_bots")
    config = bots_config(synapse, data, bots_db)
    config = replace(config, synapse=replace(config.synapse, database=synapse.database_url))
    harness = InProcessBots(config)
    (tmp_path / "clients").mkdir()
    clients = ClientFactory(synapse, tmp_path / "clients")
    try:
        await harness.start()
        counsellor = await add_counsellor(clients, config, harness.db)
        visitor = await start_visitor(clients, harness.api, harness.user_id, "nl")
        await answer_all(visitor, ANSWERS)
        queue_room = await harness.db.fetchval("SELECT room_id FROM system_room WHERE kind='queue'")
        await counsellor.wait_for(lambda: counsellor.card(queue_room, visitor.number), what="the card")
        await counsellor.say(queue_room, f"!claim {visitor.number}")
        await counsellor.wait_for(lambda: visitor.room in counsellor.user.client.invited_rooms, what="the invite")
        await counsellor.join(visitor.room)
        await visitor.observer.say(visitor.room, BEFORE)
        await counsellor.wait_for(lambda: BEFORE in counsellor.bodies(visitor.room), what="the visitor's message")

        # The backup, taken while everything runs.
        identity = tmp_path / "keep-apart" / "identity.txt"
        recipient = new_identity(identity)
        with pytest.raises(FileExistsError):
            new_identity(identity)
        signing = signing_key_path(identity)
        # The return-code key, as the bots make it when return codes are on.
        code_key = secret_key(config.path(config.return_code.key_path))
        target = tmp_path / "backup"
        manifest = backup(config, target, recipient, signing)
        assert sorted(manifest["files"]) == ["bots.dump.age", "keys.tar.age", "synapse.dump.age"]  # type: ignore[call-overload]
        assert manifest["skipped_table_data"] == list(SYNAPSE_SKIP_DATA)
        # What docs/operations.md lists: the return-code key in, the invite key out.
        assert manifest["key_files"] == [
            "bots-store", "registration_shared_secret", "return_code_key", "synapse-secrets", "visitor_appservice_token"
        ]  # fmt: skip
        secret = (synapse_dir(config) / "secrets" / "signing.key").read_text().split()[-1].encode()
        for path in target.iterdir():
            raw = path.read_bytes()
            assert BEFORE.encode() not in raw and secret not in raw and b"PGDMP" not in raw, path.name
        with pytest.raises(BackupError, match="not empty"):
            backup(config, target, recipient, signing)
        # A set someone else made for the same recipient (who can write to the backup store and
        # knows the public recipient) is refused, and so is a changed manifest.
        forged = tmp_path / "forged"
        other = tmp_path / "other" / "identity.txt"
        new_identity(other)
        backup(config, forged, recipient, signing_key_path(other))

        # The disaster: both databases and the key files are gone.
        await harness.stop()
        synapse.stop()
        await _recreate_empty(synapse.database_url)
        await _recreate_empty(bots_db)
        shutil.rmtree(config.path(config.bots.store_dir))
        shutil.rmtree(synapse_dir(config) / "secrets")
        config.path(config.return_code.key_path).unlink()
        init_synapse(synapse.config, variant="dev", test=True)  # a new machine: fresh secrets at first
        new_identity(tmp_path / "wrong.txt")
        with pytest.raises(BackupError, match="not signed by this platform"):
            restore(config, target, tmp_path / "wrong.txt")
        with pytest.raises(BackupError, match="not signed by this platform"):
            restore(config, forged, identity)
        signed = json.loads((target / "manifest.json").read_text())
        changed = {**signed, "created": "2020-01-01T00:00:00+00:00"}
        (forged / "manifest.json").write_text(json.dumps(changed))
        for name in signed["files"]:
            shutil.copy(target / name, forged / name)
        with pytest.raises(BackupError, match="not signed by this platform"):
            restore(config, forged, identity)
        restore(config, target, identity)
        # As `keerpunt restore` does: Synapse's config again, from the restored secrets (the
        # visitor appservice's registration embeds its tokens).
        init_synapse(synapse.config, variant="dev", test=True)
        with pytest.raises(BackupError, match="not empty"):
            restore(config, target, identity)
        assert (synapse_dir(config) / "secrets" / "signing.key").read_text().split()[-1].encode() == secret
        assert secret_key(config.path(config.return_code.key_path)) == code_key
        await asyncio.to_thread(synapse.start)
        harness = InProcessBots(config)
        await harness.start()

        # They talk on, both ways, and nothing is undecryptable; a new visitor starts as before.
        await counsellor.say(visitor.room, AFTER)
        await visitor.observer.wait_message(visitor.room, counsellor.user_id, lambda e: AFTER in e["content"]["body"])
        await visitor.observer.say(visitor.room, AFTER + "!")
        await counsellor.wait_for(lambda: AFTER + "!" in counsellor.bodies(visitor.room), what="the reply")
        assert not counsellor.undecryptable and not visitor.observer.undecryptable
        newcomer = await start_visitor(clients, harness.api, harness.user_id, "nl")
        assert not newcomer.observer.undecryptable
    finally:
        await harness.stop()
        await clients.close()
        synapse.stop()
        await _admin(f"DROP DATABASE IF EXISTS {urlsplit(bots_db).path.lstrip('/')} WITH (FORCE)")
        await _admin(f"DROP DATABASE IF EXISTS {urlsplit(synapse.database_url).path.lstrip('/')} WITH (FORCE)")
