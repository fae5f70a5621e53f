"""A new database takes the latest revision at once; it is the very schema the steps make one by
one (tables, columns in order with their types, defaults and nullability, keys, indexes)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from mautrix.util.async_db import Database, UpgradeTable

from bots.db import create_database
from bots.db.upgrade import STEPS, stepwise, upgrade_table, v00_latest
from keerpunt.base.config import load_config
from tests.support.plugin import POSTGRES_URL
from tests.support.synapse import create_postgres_database, drop_postgres_database

# Store tests run on SQLite and, when KEERPUNT_TEST_POSTGRES_URL is set, on PostgreSQL.
pytestmark = pytest.mark.pg

Schema = dict[str, Any]


@pytest.fixture
def two_urls(backend: str, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """Two fresh, empty databases."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'latest.db'}", f"sqlite:///{tmp_path / 'stepwise.db'}"
        return
    urls = (
        create_postgres_database(POSTGRES_URL, "keerpunt_latest"),
        create_postgres_database(POSTGRES_URL, "keerpunt_steps"),
    )
    yield urls
    for url in urls:
        drop_postgres_database(POSTGRES_URL, url)


@asynccontextmanager
async def _upgraded(url: str, table: UpgradeTable) -> AsyncIterator[Database]:
    db = create_database(load_config(), url)
    db.upgrade_table = table
    await db.start()
    try:
        yield db
    finally:
        await db.stop()


async def _sqlite_schema(db: Database) -> Schema:
    schema: Schema = {}
    tables = await db.fetch("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")
    for row in tables:
        name = row["name"]
        columns = [tuple(c) for c in await db.fetch(f"PRAGMA table_info({name})")]
        keys = [tuple(k) for k in await db.fetch(f"PRAGMA foreign_key_list({name})")]
        indexes = {}
        for index in await db.fetch(f"PRAGMA index_list({name})"):
            info = [tuple(i) for i in await db.fetch(f"PRAGMA index_info({index['name']})")]
            sql = await db.fetchval("SELECT sql FROM sqlite_master WHERE name=$1", index["name"])
            # An automatic index (a UNIQUE or PRIMARY KEY column) has no SQL; a made one's is its text.
            indexes[index["name"]] = (bool(index["unique"]), index["origin"], bool(index["partial"]), info, sql)
        schema[name] = {"columns": columns, "foreign keys": keys, "indexes": indexes}
    return schema


async def _postgres_schema(db: Database) -> Schema:
    schema: Schema = {}
    columns = await db.fetch(
        "SELECT table_name, ordinal_position, column_name, data_type, is_nullable, column_default "
        "FROM information_schema.columns WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position"
    )
    for column in columns:
        table = schema.setdefault(column["table_name"], {"columns": [], "indexes": {}, "constraints": set()})
        table["columns"].append(tuple(column))
    for index in await db.fetch(
        "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()"
    ):
        schema[index["tablename"]]["indexes"][index["indexname"]] = index["indexdef"]
    constraints = await db.fetch(
        "SELECT c.conrelid::regclass::text AS tbl, c.conname, pg_get_constraintdef(c.oid) AS def "
        "FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = current_schema()"
    )
    for constraint in constraints:
        schema[constraint["tbl"]]["constraints"].add((constraint["conname"], constraint["def"]))
    return schema


async def schema(db: Database) -> Schema:
    return await (_postgres_schema(db) if db.scheme == "postgres" else _sqlite_schema(db))


async def test_the_latest_revision_is_the_schema_the_steps_make(two_urls: tuple[str, str]) -> None:
    latest_url, steps_url = two_urls
    async with _upgraded(latest_url, upgrade_table) as latest, _upgraded(steps_url, stepwise()) as steps:
        made, stepped = await schema(latest), await schema(steps)
        assert set(made) == set(stepped)
        for table in stepped:
            assert made[table] == stepped[table], table
        version = "SELECT version FROM version"
        assert await latest.fetchval(version) == await steps.fetchval(version) == len(STEPS)


async def test_a_new_database_takes_the_latest_revision_and_then_only_later_steps() -> None:
    assert len(STEPS) >= v00_latest.REVISION
    # Index 0 (a new database) jumps to the revision; the steps after v1 keep their places.
    assert len(upgrade_table.upgrades) == len(STEPS)
    destination = upgrade_table.upgrades[0].__mau_db_upgrade_destination__  # type: ignore[attr-defined]
    assert destination == v00_latest.REVISION
