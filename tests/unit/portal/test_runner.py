"""PortalRunner answers cached pages before routing, with exactly what the routes answer."""

from __future__ import annotations

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from keerpunt.base.config import Config
from portal.app import VIEWS_KEY, create_app
from portal.runner import PortalRunner
from portal.site import Site

from .conftest import PortalTestServer

Client = TestClient[web.Request, web.Application]


def _without_date(headers: object) -> list[tuple[str, str]]:
    return [(k, v) for k, v in headers.items() if k != "Date"]  # type: ignore[attr-defined]


async def test_cached_pages_are_answered_byte_for_byte_as_the_routes_answer_them(
    portal_config: Config, site: Site
) -> None:
    fast = TestClient(PortalTestServer(create_app(portal_config, site)), auto_decompress=False)
    routed = TestClient(TestServer(create_app(portal_config, site)), auto_decompress=False)
    async with fast, routed:
        assert isinstance(fast.server.runner, PortalRunner) and not isinstance(routed.server.runner, PortalRunner)
        pages = fast.app[VIEWS_KEY].pages  # type: ignore[index]
        assert len(pages) > 60
        for path, page in sorted(pages.items()):
            for method, headers in (
                ("GET", {}),
                ("GET", {"Accept-Encoding": "gzip, br"}),
                ("GET", {"If-None-Match": page.etag}),
                ("HEAD", {}),
            ):
                a = await fast.request(method, path, headers=headers, allow_redirects=False)
                b = await routed.request(method, path, headers=headers, allow_redirects=False)
                assert (a.status, await a.read()) == (b.status, await b.read()), (method, path, headers)
                assert _without_date(a.headers) == _without_date(b.headers), (method, path, headers)


async def test_other_methods_on_a_cached_page_still_go_through_the_router(client: Client) -> None:
    response = await client.post("/nl/artikel/zo-word-je-geronseld")
    assert response.status == 405
    assert "Content-Security-Policy" in response.headers
