"""Fixtures for the portal: the real content, a test config and an aiohttp test client."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient, TestServer
from aiohttp.web_runner import BaseRunner

from keerpunt.base.config import Config
from keerpunt.site.folder import DEFAULT_CONTENT_DIR
from portal.app import create_app
from portal.runner import PortalRunner
from portal.site import Site
from tests.support.synapse import make_test_config

ClientFactory = Callable[..., Awaitable[TestClient[web.Request, web.Application]]]
# What Chromium sends with a form posted from one of the portal's own pages.
OWN_FORM = {"Sec-Fetch-Site": "same-origin", "Origin": "null"}


async def search(client: TestClient[web.Request, web.Application], path: str, query: str) -> ClientResponse:
    """The search form, posted from the portal's own page as a browser does."""
    return await client.post(path, data={"q": query}, headers=OWN_FORM)


class PortalTestServer(TestServer):
    """A test server that runs the app the way `keerpunt run portal` does (cached pages first)."""

    async def _make_runner(self, **kwargs: Any) -> BaseRunner:
        return PortalRunner(self.app, **kwargs)


@pytest.fixture(scope="session")
def portal_config(tmp_path_factory: pytest.TempPathFactory) -> Config:
    return make_test_config(tmp_path_factory.mktemp("portal"))


@pytest.fixture(scope="module")
async def client(portal_config: Config, site: Site) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    async with TestClient(PortalTestServer(create_app(portal_config, site))) as test_client:
        yield test_client


@pytest.fixture
async def make_client(tmp_path: Path) -> AsyncIterator[ClientFactory]:
    """A client for an app built from a config with ``overrides`` (and content of its own)."""
    clients: list[TestClient[web.Request, web.Application]] = []

    async def make(overrides: dict[str, Any] | None = None, setup: Callable[[web.Application], None] | None = None):
        config = make_test_config(tmp_path / f"data{len(clients)}", overrides)
        app = create_app(config)
        if setup is not None:
            setup(app)
        test_client = TestClient(PortalTestServer(app))
        await test_client.start_server()
        clients.append(test_client)
        return test_client

    yield make
    for test_client in clients:
        await test_client.close()


@pytest.fixture
def content_copy(tmp_path: Path) -> Iterator[Path]:
    """A writable copy of the shipped content, to break or extend in a test."""
    folder = tmp_path / "content"
    shutil.copytree(DEFAULT_CONTENT_DIR, folder)
    yield folder
