"""Shared fixtures: one real Synapse per test session and real E2EE Matrix clients.

Integration tests never mock the homeserver. With ``KEERPUNT_TEST_POSTGRES_URL`` set (an
admin URL of a PostgreSQL server), every integration test runs on SQLite and again on
PostgreSQL (a fresh database with C collation per run). In CI (``CI=true``) an unset or
unreachable PostgreSQL is an error, not a skip.

The browser tests (tests/widget) run on SQLite only: they check what the widget does in
Chromium, which talks the same client-server API whatever Synapse stores it in, and a second
pass cost about five minutes of every CI run. The bots' and Synapse's behaviour on
PostgreSQL is covered by the integration tests, which do run on both.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from keerpunt.testing import SynapseProcess, drop_postgres_database, start_synapse

from .matrix_clients import ClientFactory

POSTGRES_URL = os.environ.get("KEERPUNT_TEST_POSTGRES_URL", "")
IN_CI = os.environ.get("CI", "").lower() == "true"


def _postgres_reachable(url: str) -> str | None:
    import asyncio

    import asyncpg

    async def probe() -> None:
        conn = await asyncpg.connect(url, timeout=5)
        await conn.close()

    try:
        asyncio.run(probe())
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def backends() -> list[str]:
    if IN_CI and not POSTGRES_URL:
        raise pytest.UsageError("CI=true but KEERPUNT_TEST_POSTGRES_URL is not set")
    return ["sqlite", "postgres"] if POSTGRES_URL else ["sqlite"]


def pytest_configure(config: pytest.Config) -> None:
    if POSTGRES_URL:
        problem = _postgres_reachable(POSTGRES_URL)
        if problem:
            raise pytest.UsageError(f"KEERPUNT_TEST_POSTGRES_URL is set but PostgreSQL is unreachable: {problem}")
    elif IN_CI:
        raise pytest.UsageError("CI=true but KEERPUNT_TEST_POSTGRES_URL is not set")


SQLITE_ONLY = ("tests/widget/",)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect the PostgreSQL pass of the browser tests (see the module docstring)."""
    keep, drop = [], []
    for item in items:
        params = getattr(item, "callspec", None)
        backend = params.params.get("synapse") if params is not None else None
        if item.nodeid.startswith(SQLITE_ONLY) and backend == "postgres":
            drop.append(item)
        else:
            keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(scope="session")
def tmp_root() -> Iterator[Path]:
    root = Path(tempfile.mkdtemp(prefix="keerpunt-test-"))
    yield root
    if not os.environ.get("KEERPUNT_KEEP_TEST_DATA"):
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session", params=backends())
def synapse(request: pytest.FixtureRequest, tmp_root: Path) -> Iterator[SynapseProcess]:
    backend = request.param
    proc = start_synapse(
        tmp_root / f"synapse-{backend}", postgres_admin_url=POSTGRES_URL if backend == "postgres" else None
    )
    yield proc
    proc.stop()
    if proc.database_url:
        drop_postgres_database(POSTGRES_URL, proc.database_url)


@pytest.fixture
async def clients(synapse: SynapseProcess, tmp_path: Path) -> AsyncIterator[ClientFactory]:
    factory = ClientFactory(synapse, tmp_path)
    yield factory
    await factory.close()


@pytest.fixture(scope="session", params=backends())
def bots_database_url(request: pytest.FixtureRequest, tmp_root: Path) -> Iterator[str]:
    """A fresh URL for the bots' database, on SQLite and (when configured) PostgreSQL."""
    from keerpunt.testing import create_postgres_database

    if request.param == "sqlite":
        yield f"sqlite:///{tmp_root / 'bots-store-test.db'}"
        return
    url = create_postgres_database(POSTGRES_URL, "keerpunt_bots")
    yield url
    drop_postgres_database(POSTGRES_URL, url)
