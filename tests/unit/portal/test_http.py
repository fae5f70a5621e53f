"""HTTP behaviour: security headers (SECURITY.md item 16), no cookies, caching, static files, proxy."""

from __future__ import annotations

import dataclasses
import gzip
import json
import re
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from keerpunt.base.config import ConfigError
from portal.app import VIEWS_KEY, create_app
from portal.site import Site
from tests.support.synapse import make_test_config

from .conftest import ClientFactory

Client = TestClient[web.Request, web.Application]


def all_html_paths(client: Client) -> list[str]:
    views = client.app[VIEWS_KEY]  # type: ignore[index]
    return [*sorted(views.pages), "/nl/zoeken", "/en/search", "/nl/bestaat-niet", "/en/nope"]


def assert_item_16(headers: object, path: str, https: bool = False) -> None:
    h = headers  # a CIMultiDictProxy
    csp = h["Content-Security-Policy"]  # type: ignore[index]
    directives = {d.split()[0]: d.split()[1:] for d in csp.split("; ")}
    assert directives["script-src"] == ["'self'"], path
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp, path
    assert directives["object-src"] == ["'none'"] and directives["base-uri"] == ["'none'"], path
    assert directives["frame-ancestors"][0] == "'self'", path
    assert directives["style-src"] == ["'self'"], path
    assert h["X-Content-Type-Options"] == "nosniff", path  # type: ignore[index]
    assert h["Referrer-Policy"] == "no-referrer", path  # type: ignore[index]
    policy = h["Permissions-Policy"]  # type: ignore[index]
    for feature in ("camera=()", "microphone=()", "geolocation=()"):
        assert feature in policy, path
    assert ("Strict-Transport-Security" in h) is https, path  # type: ignore[operator]
    assert "Set-Cookie" not in h, path  # type: ignore[operator]


async def test_every_html_response_has_the_security_headers(client: Client) -> None:
    paths = all_html_paths(client)
    assert len(paths) > 60
    for path in paths:
        response = await client.get(path)
        assert response.headers["Content-Type"].startswith("text/html"), path
        assert_item_16(response.headers, path)


async def test_no_response_sets_a_cookie(client: Client) -> None:
    paths = [
        *all_html_paths(client),
        "/sitemap.xml",
        "/robots.txt",
        "/static/quick-exit.js",
        "/nl/artikel/privacyverklaring",
    ]
    for path in paths:
        response = await client.get(path, allow_redirects=False)
        assert "Set-Cookie" not in response.headers, path
    assert len(client.session.cookie_jar) == 0


async def test_redirects_and_method_errors_carry_the_headers_too(client: Client) -> None:
    for response in (
        await client.get("/en", allow_redirects=False),
        await client.post("/nl/"),
        await client.get("/static/missing.js"),
    ):
        assert response.status in (301, 404, 405)
        assert "Content-Security-Policy" in response.headers and "Set-Cookie" not in response.headers


async def test_hsts_is_sent_when_the_portal_is_public_over_https(make_client: ClientFactory) -> None:
    client = await make_client({"portal": {"public_url": "https://keerpunt.test"}})
    response = await client.get("/nl/")
    assert_item_16(response.headers, "/nl/", https=True)
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    assert 'rel="canonical" href="https://keerpunt.test/nl/"' in await response.text()


async def test_frame_ancestors_follow_the_allowlist(make_client: ClientFactory) -> None:
    client = await make_client({"portal": {"frame_ancestors": ["https://partner.test"]}})
    csp = (await client.get("/nl/")).headers["Content-Security-Policy"]
    assert "frame-ancestors 'self' https://partner.test" in csp


def test_a_frame_ancestor_that_is_not_an_origin_is_a_config_error(tmp_path: object) -> None:
    config = make_test_config(tmp_path, {"portal": {"frame_ancestors": ["https://partner.test/path"]}})  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"portal\.frame_ancestors\[0\]"):
        create_app(config)


async def test_pages_have_an_etag_and_answer_304(client: Client) -> None:
    response = await client.get("/nl/artikel/zo-word-je-geronseld")
    etag = response.headers["ETag"]
    assert re.fullmatch(r'"[0-9a-f]{32}"', etag)
    assert response.headers["Cache-Control"] == "no-cache"
    again = await client.get("/nl/artikel/zo-word-je-geronseld", headers={"If-None-Match": etag})
    assert again.status == 304
    assert await again.read() == b""
    assert_item_16(again.headers, "304")
    other = await client.get("/nl/artikel/zo-word-je-geronseld", headers={"If-None-Match": '"nope"'})
    assert other.status == 200


async def test_pages_are_gzipped_for_clients_that_accept_it(client: Client) -> None:
    plain = await client.get("/nl/", headers={"Accept-Encoding": "identity"}, auto_decompress=False)
    zipped = await client.get("/nl/", headers={"Accept-Encoding": "gzip, br"}, auto_decompress=False)
    assert "Content-Encoding" not in plain.headers
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert zipped.headers["Vary"] == "Accept-Encoding"
    assert gzip.decompress(await zipped.read()) == await plain.read()
    refused = await client.get("/nl/", headers={"Accept-Encoding": "gzip;q=0"}, auto_decompress=False)
    assert "Content-Encoding" not in refused.headers


async def test_static_files_have_hashed_names_and_long_lifetimes(client: Client) -> None:
    page = await (await client.get("/nl/")).text()
    css = re.search(r'href="(/static/site\.[0-9a-f]{12}\.css)"', page)
    js = re.search(r'src="(/static/quick-exit\.[0-9a-f]{12}\.js)"', page)
    assert css and js
    response = await client.get(css.group(1), headers={"Accept-Encoding": "gzip"}, auto_decompress=False)
    assert response.status == 200
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response.headers["Content-Type"] == "text/css; charset=utf-8"
    assert response.headers["Content-Encoding"] == "gzip"
    body = gzip.decompress(await response.read())
    assert b".quick-exit" in body
    identity = await client.get(css.group(1), headers={"Accept-Encoding": "identity"}, auto_decompress=False)
    assert "Content-Encoding" not in identity.headers and await identity.read() == body
    assert "X-Content-Type-Options" in identity.headers


async def test_the_quick_exit_script_also_has_a_stable_name_for_the_widget(client: Client) -> None:
    response = await client.get("/static/quick-exit.js")
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-cache"
    again = await client.get("/static/quick-exit.js", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status == 304


async def test_no_page_loads_anything_from_another_host(client: Client, site: Site) -> None:
    for path in all_html_paths(client):
        page = await (await client.get(path)).text()
        for attr in re.findall(r'\b(?:src|href)="([^"]*)"', page):
            if attr.startswith(("http://", "https://", "//")):
                # Only links a visitor chooses to follow: canonical/alternate, the quick exit, content links.
                assert re.search(rf'<(a|link rel="(canonical|alternate)")[^>]*"{re.escape(attr)}"', page), (path, attr)
        assert not re.search(r'<(script|img|iframe)[^>]+src="(https?:)?//', page), path
        assert not re.search(r'<link[^>]+rel="(stylesheet|icon|preload)"[^>]+href="(https?:)?//', page), path


async def fake_upstream() -> tuple[TestServer, list[dict[str, object]]]:
    seen: list[dict[str, object]] = []

    async def sessions(request: web.Request) -> web.Response:
        seen.append({"method": request.method, "path": request.path_qs, "body": await request.json(),
                     "origin": request.headers.get("Origin")})  # fmt: skip
        return web.json_response({"room_id": "!r:test"}, status=201, headers={"X-Upstream": "yes"})

    upstream = web.Application()
    upstream.router.add_post("/api/v1/sessions", sessions)
    server = TestServer(upstream)
    await server.start_server()
    return server, seen


async def test_api_requests_are_forwarded_to_the_session_api(make_client: ClientFactory) -> None:
    server, seen = await fake_upstream()
    try:
        client = await make_client({"portal": {"api_url": str(server.make_url("/")).rstrip("/")}})
        response = await client.post(
            "/api/v1/sessions?x=1", json={"language": "nl"}, headers={"Origin": "http://127.0.0.1"}
        )
        assert response.status == 201
        assert json.loads(await response.text()) == {"room_id": "!r:test"}
        assert response.headers["X-Upstream"] == "yes"
        assert seen == [{"method": "POST", "path": "/api/v1/sessions?x=1", "body": {"language": "nl"},
                         "origin": "http://127.0.0.1"}]  # fmt: skip
        missing = await client.get("/api/v1/unknown")
        assert missing.status == 404 and "<html" not in await missing.text()
    finally:
        await server.close()


async def test_the_api_proxy_exists_in_dev_mode_only(tmp_path: Path, site: Site) -> None:
    """Issue 23, L6: in production the reverse proxy sends /api/ to the bots; the portal has no
    second way in that forwards whatever a client sends. Nothing reaches the session API."""
    server, seen = await fake_upstream()
    try:
        dev = make_test_config(tmp_path, {"portal": {"api_url": str(server.make_url("/")).rstrip("/")}})
        production = dataclasses.replace(dev, mode="production")
        async with TestClient(TestServer(create_app(production, site))) as client:
            for method in ("POST", "GET", "PUT", "DELETE"):
                response = await client.request(method, "/api/v1/sessions", json={"language": "nl"})
                assert response.status in (404, 405), method
            response = await client.get("/api/v1/health")
            assert response.status == 404 and "<html" in await response.text()  # the site's own 404 page
        assert seen == []
        async with TestClient(TestServer(create_app(dev, site))) as client:
            response = await client.post("/api/v1/sessions", json={"language": "nl"})
            assert response.status == 201
        assert len(seen) == 1
    finally:
        await server.close()


async def test_an_unreachable_session_api_gives_a_short_502(make_client: ClientFactory) -> None:
    client = await make_client({"portal": {"api_url": "http://127.0.0.1:9"}})
    response = await client.post("/api/v1/sessions", json={})
    assert response.status == 502
    assert await response.json() == {"error": "unavailable"}
