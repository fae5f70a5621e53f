"""The bot's fallback key is published at once, but replaced at most once per ROTATE_AFTER."""

from __future__ import annotations

import time
from typing import Any

import pytest

from bots.db import Database
from bots.db.bot_state import BotStateStore
from bots.matrix import fallback
from bots.matrix.fallback import PUBLISHED_AT, ROTATE_AFTER, FallbackKeys

# Store tests run on SQLite and, when KEERPUNT_TEST_POSTGRES_URL is set, on PostgreSQL.
pytestmark = pytest.mark.pg


class Client:
    unused_fallback_key_types: list[str] | None = None


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []

    async def publish(client: Any) -> bool:
        calls.append(1)
        return True

    monkeypatch.setattr(fallback, "publish_fallback_key", publish)
    return calls


async def test_a_missing_fallback_key_is_published_at_once(db: Database, published: list[int]) -> None:
    state = BotStateStore(db)
    await db.execute("DELETE FROM bot_state WHERE key=$1", PUBLISHED_AT)
    client = Client()
    keys = FallbackKeys(client, state)  # type: ignore[arg-type]
    await keys.maintain()
    assert published == [], "nothing is known before the first sync"
    client.unused_fallback_key_types = []
    await keys.maintain()
    assert published == [1]
    assert await state.get(PUBLISHED_AT) is not None


async def test_a_used_fallback_key_is_replaced_only_when_the_previous_one_is_old(
    db: Database, published: list[int]
) -> None:
    state = BotStateStore(db)
    client = Client()
    client.unused_fallback_key_types = ["signed_curve25519"]
    keys = FallbackKeys(client, state)  # type: ignore[arg-type]
    await keys.maintain()
    assert published == [], "an unused key stays"
    client.unused_fallback_key_types = []
    await state.put(PUBLISHED_AT, str(time.time() - 60))
    await keys.maintain()
    assert published == [], "replaced too soon: messages made with the previous key would be lost"
    await state.put(PUBLISHED_AT, str(time.time() - ROTATE_AFTER - 1))
    await keys.maintain()
    assert published == [1]
