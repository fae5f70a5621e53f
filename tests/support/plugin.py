"""The suite's fixtures and collection rules, as one pytest plugin (``tests/conftest.py`` loads it).

Layers, by folder, and the markers they get here (so ``-m`` selects them right):

- ``tests/unit``: no Synapse and no browser (``make unit``: ``-m "not integration and not browser"``);
- ``tests/core``: the bots' rules through the production assembly, over a temporary database,
  with a recording fake Matrix and a clock the test moves (``tests/support/core.py``); no
  Synapse, so ``make unit`` runs it too, on SQLite and PostgreSQL;
- ``tests/e2e``: a real Synapse started once per session (``integration``);
- ``tests/browser``: Debian's Chromium (``browser``; also ``integration`` when it needs Synapse);
- ``tests/compose``: the production compose.yaml in containers (``compose``), collected only
  when ``-m`` names it (``make compose-test``): minutes per run, not part of ``make test``.

A test that uses the ``synapse`` or ``browser`` fixture gets the marker whatever its folder.
Integration tests never mock the homeserver.

PostgreSQL: with ``KEERPUNT_TEST_POSTGRES_URL`` set (an admin URL of a PostgreSQL server), the
``backend`` parameter runs a test on SQLite and again on PostgreSQL (a fresh database with C
collation per run), but only for tests marked ``pg``: the store tests, the crash and repair tests
and one full run per concern. Everything else proves on SQLite what does not depend on the
database, and a second pass of every Synapse test cost about six minutes of every CI run. In CI
(``CI=true``) an unset or unreachable PostgreSQL is an error, not a skip.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from playwright.async_api import Browser, BrowserContext, Page

from bots.app import PLUGS
from bots.concern import Plug
from bots.db import Database, create_database
from keerpunt.base.config import load_config, merge
from portal.app import create_app
from portal.site import Site, load_site

from .bots import SQLITE_DATABASE, BotsSetup, InProcessBots, bots_config
from .browser import NEUTRAL_URL, Sites, Stack, chromium, fulfil_neutral, require_build
from .core import CoreBot, ManualClock
from .matrix_clients import ClientFactory, TestUser
from .synapse import (
    SynapseProcess,
    create_postgres_database,
    drop_postgres_database,
    free_port,
    make_test_config,
    start_synapse,
)

POSTGRES_URL = os.environ.get("KEERPUNT_TEST_POSTGRES_URL", "")
IN_CI = os.environ.get("CI", "").lower() == "true"
TESTS = Path(__file__).resolve().parents[1]
LAYER_MARKERS = {"e2e": ("integration",), "browser": ("browser",), "compose": ("compose",)}


# --- collection -------------------------------------------------------------------------------


def _postgres_reachable(url: str) -> str | None:
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


def _layer(item: pytest.Item) -> str:
    try:
        return item.path.relative_to(TESTS).parts[0]
    except ValueError:
        return ""


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark each test with its layer, and keep the PostgreSQL pass only for ``pg`` tests."""
    keep, drop = [], []
    for item in items:
        names = getattr(item, "fixturenames", ())
        markers = set(LAYER_MARKERS.get(_layer(item), ()))
        if "synapse" in names:
            markers.add("integration")
        if "browser" in names:
            markers.add("browser")
        for marker in sorted(markers):
            item.add_marker(marker)
        params = getattr(item, "callspec", None)
        backend = params.params.get("backend") if params is not None else None
        if backend == "postgres" and item.get_closest_marker("pg") is None:
            drop.append(item)
        elif "compose" in markers and "compose" not in (config.option.markexpr or ""):
            drop.append(item)  # the production stack in containers: only `make compose-test`
        else:
            keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


# --- Synapse and Matrix clients ---------------------------------------------------------------


@pytest.fixture(scope="session", params=backends())
def backend(request: pytest.FixtureRequest) -> str:
    """``sqlite``, and ``postgres`` when KEERPUNT_TEST_POSTGRES_URL is set (``pg`` tests only)."""
    return str(request.param)


@pytest.fixture(scope="session")
def tmp_root() -> Iterator[Path]:
    root = Path(tempfile.mkdtemp(prefix="keerpunt-test-"))
    yield root
    if not os.environ.get("KEERPUNT_KEEP_TEST_DATA"):
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def synapse(backend: str, tmp_root: Path) -> Iterator[SynapseProcess]:
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


@pytest.fixture(scope="module")
async def module_clients(
    synapse: SynapseProcess, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[ClientFactory]:
    """Users that live as long as the module's bots (e.g. the partners their directory names)."""
    factory = ClientFactory(synapse, tmp_path_factory.mktemp("clients"))
    yield factory
    await factory.close()


# --- the bots ---------------------------------------------------------------------------------


@contextmanager
def bots_database_for(synapse: SynapseProcess) -> Iterator[str]:
    """A fresh bots database on the same kind of backend as the Synapse under test."""
    if synapse.backend != "postgres":
        yield SQLITE_DATABASE  # in the bots' own data directory
        return
    url = create_postgres_database(POSTGRES_URL, "keerpunt_bots")
    try:
        yield url
    finally:
        drop_postgres_database(POSTGRES_URL, url)


@pytest.fixture
def bots_database(synapse: SynapseProcess) -> Iterator[str]:
    """A fresh bots database for one test's own bots (child processes, special configs)."""
    with bots_database_for(synapse) as url:
        yield url


@pytest.fixture(scope="module")
def module_bots_database(synapse: SynapseProcess) -> Iterator[str]:
    """A fresh bots database for the bots a whole module shares."""
    with bots_database_for(synapse) as url:
        yield url


@pytest.fixture(scope="module")
def bots_extra() -> dict[str, Any]:
    """Config on top of the bots' test config; a conftest or test module may override it."""
    return {}


@pytest.fixture(scope="module")
def bots_setup() -> BotsSetup:
    """What to do once the bots run (e.g. add staff); a conftest may override it."""

    async def nothing(bots: InProcessBots) -> None:
        return None

    return nothing


async def _start_bots(
    synapse: SynapseProcess, data_dir: Path, database: str, extra: dict[str, Any], setup: BotsSetup
) -> InProcessBots:
    harness = InProcessBots(bots_config(synapse, data_dir, database, extra))
    try:
        await harness.start()
        await setup(harness)
    except BaseException:
        await harness.stop()
        raise
    return harness


@pytest.fixture(scope="module")
async def module_bots(
    synapse: SynapseProcess,
    tmp_path_factory: pytest.TempPathFactory,
    module_bots_database: str,
    bots_extra: dict[str, Any],
    bots_setup: BotsSetup,
) -> AsyncIterator[InProcessBots]:
    data_dir = tmp_path_factory.mktemp("bots") / "data"
    harness = await _start_bots(synapse, data_dir, module_bots_database, bots_extra, bots_setup)
    yield harness
    await harness.stop()


@pytest.fixture
async def fresh_bots(
    synapse: SynapseProcess, tmp_path: Path, bots_database: str, bots_extra: dict[str, Any], bots_setup: BotsSetup
) -> AsyncIterator[InProcessBots]:
    harness = await _start_bots(synapse, tmp_path / "data", bots_database, bots_extra, bots_setup)
    yield harness
    await harness.stop()


@pytest.fixture
def bots(
    request: pytest.FixtureRequest, synapse: SynapseProcess, bots_extra: dict[str, Any], bots_setup: BotsSetup
) -> InProcessBots:
    """The bots of this test module, started once for all its tests (each test starts its own
    sessions and finds its case by number). A test marked ``fresh_bots`` gets bots of its own:
    one that moves their clock, stops or restarts them, counts every case they hold (``!queue``,
    purges) or sets its own ``bots_extra``."""
    fresh = request.node.get_closest_marker("fresh_bots") is not None
    harness: InProcessBots = request.getfixturevalue("fresh_bots" if fresh else "module_bots")
    return harness


# --- the bots' database alone (store tests) ---------------------------------------------------


@pytest.fixture(scope="module")
def db_url(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh, empty bots database per test module: SQLite, and PostgreSQL for ``pg`` tests."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'bots.db'}"
        return
    url = create_postgres_database(POSTGRES_URL, "keerpunt_bots")
    yield url
    drop_postgres_database(POSTGRES_URL, url)


@pytest.fixture(scope="module")
async def db(db_url: str) -> AsyncIterator[Database]:
    """The bots' database with every upgrade applied, shared by the tests of one module."""
    database = create_database(load_config(), db_url)
    await database.start()
    yield database
    await database.stop()


# --- the portal and the browser ---------------------------------------------------------------


@pytest.fixture(scope="session")
def site() -> Site:
    """The shipped content, loaded and checked once (``create_app(config, site)`` skips that)."""
    return load_site()


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    """One Chromium per module; each test gets a fresh context (a new, empty, in-memory profile)."""
    async with chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def extra_config() -> dict[str, Any]:
    """Config overrides for the module's widget stack (override this fixture in a test module)."""
    return {}


@pytest.fixture(scope="module")
async def stack(
    synapse: SynapseProcess,
    tmp_path_factory: pytest.TempPathFactory,
    module_bots_database: str,
    site: Site,
    extra_config: dict[str, Any],
) -> AsyncIterator[Stack]:
    """Bots, portal and the two foreign sites for one module's widget tests (see support/browser.py)."""
    require_build()
    sites = Sites()
    await sites.start()
    portal_port, api_port = free_port(), free_port()
    portal_url = f"http://127.0.0.1:{portal_port}"
    config = bots_config(
        synapse,
        tmp_path_factory.mktemp("stack") / "data",
        module_bots_database,
        merge(
            {
                "bots": {"api": {"port": api_port, "allowed_origins": [portal_url]}},
                "portal": {
                    "port": portal_port,
                    "public_url": portal_url,
                    "api_url": f"http://127.0.0.1:{api_port}",
                    "quick_exit_url": NEUTRAL_URL,
                    "frame_ancestors": [sites.origins["host"]],
                },
            },
            extra_config,
        ),
    )
    bots = InProcessBots(config)
    await bots.start()
    app = create_app(config, site)  # the portal serves the widget itself (portal/widget.py)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", portal_port).start()
    http = aiohttp.ClientSession()
    try:
        yield Stack(config, bots, portal_url, synapse, http, sites)
    finally:
        await http.close()
        await sites.stop()
        await runner.cleanup()
        await bots.stop()


@pytest.fixture
async def context(browser: Browser) -> AsyncIterator[BrowserContext]:
    """A fresh profile (a new context is a new, empty, in-memory profile)."""
    ctx = await browser.new_context(viewport={"width": 400, "height": 760}, locale="nl-NL")
    await ctx.route("https://neutral.test/**", fulfil_neutral)
    try:
        yield ctx
    finally:
        await ctx.close()


@pytest.fixture
async def page(context: BrowserContext) -> AsyncIterator[Page]:
    page = await context.new_page()
    page.on("console", lambda msg: print(f"[console.{msg.type}] {msg.text}"))
    page.on("pageerror", lambda exc: print(f"[pageerror] {exc}"))
    yield page


@pytest.fixture
async def fresh(browser: Browser) -> AsyncIterator[Any]:
    """New, empty, in-memory browser profiles on demand ("another device"): ``await fresh()`` gives
    a page in a profile of its own, closed with the test."""
    opened: list[BrowserContext] = []

    async def profile() -> Page:
        context = await browser.new_context(viewport={"width": 400, "height": 760}, locale="nl-NL")
        await context.route("https://neutral.test/**", fulfil_neutral)
        opened.append(context)
        page = await context.new_page()
        page.on("console", lambda msg: print(f"[console.{msg.type}] {msg.text}"))
        return page

    yield profile
    for context in opened:
        await context.close()


@pytest.fixture
async def axe_page(browser: Browser) -> AsyncIterator[Page]:
    """axe is injected as an inline script, which the page's CSP rightly refuses: bypass it here."""
    context = await browser.new_context(viewport={"width": 320, "height": 640}, locale="nl-NL", bypass_csp=True)
    page = await context.new_page()
    yield page
    await context.close()


@pytest.fixture
async def counsellor(clients: ClientFactory) -> TestUser:
    """A cross-signed counsellor device (what Element does for real staff)."""
    return await clients.user("counsellor", cross_sign=True)


# --- the core layer: the bots without a homeserver (tests/core) -------------------------------


@pytest.fixture
def core_config() -> dict[str, Any]:
    """Config on top of the test config for the core layer; a test module may override it."""
    return {"queue": {"reminder_minutes": 30, "urgent_reminder_minutes": 5}}


@pytest.fixture
def core_plugs() -> tuple[type[Plug], ...]:
    """The concerns the core layer's bot is assembled from; a test module may add its own."""
    return PLUGS


@pytest.fixture(params=backends())
def core_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh bots database for one test."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'bots.db'}"
        return
    url = create_postgres_database(POSTGRES_URL, "keerpunt_core")
    yield url
    drop_postgres_database(POSTGRES_URL, url)


@pytest.fixture
async def core(
    tmp_path: Path, core_config: dict[str, Any], core_database: str, core_plugs: tuple[type[Plug], ...]
) -> AsyncIterator[CoreBot]:
    # No Synapse here: no application service token, so no ready sessions either.
    # The proof of work before a start is off, as in the other layers' test config
    # (tests/support/bots.py); its own tests turn it on.
    no_appservice = {
        "homeserver": {"visitor_appservice_token_file": ""},
        "bots": {"api": {"ready_sessions": 0}, "challenge": {"enabled": False}},
    }
    config = make_test_config(tmp_path / "data", merge(no_appservice, core_config))
    db = create_database(config, core_database)
    await db.start()
    try:
        bot = CoreBot(config, db, ManualClock(), plugs=core_plugs)
        await bot.start()
        yield bot
    finally:
        await db.stop()
