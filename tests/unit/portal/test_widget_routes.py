"""portal/widget.py: the widget's files and the chat page, with the headers SECURITY.md asks for."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from portal.widget import DIST, add_widget_routes
from tests.support.browser import require_build
from tests.support.synapse import make_test_config

Client = TestClient[web.Request, web.Application]
MakeClient = Callable[..., Awaitable[Client]]


@pytest.fixture
async def make_client(tmp_path: Path) -> AsyncIterator[MakeClient]:
    made: list[Client] = []

    async def make(overrides: dict[str, Any] | None = None, dist: Path = DIST) -> Client:
        config = make_test_config(tmp_path / f"d{len(made)}", overrides)
        app = web.Application()
        add_widget_routes(app, config, dist)
        client = TestClient(TestServer(app))
        await client.start_server()
        made.append(client)
        return client

    yield make
    for client in made:
        await client.close()


@pytest.fixture
def manifest() -> dict[str, Any]:
    require_build()
    return dict(json.loads((DIST / "keerpunt-widget.json").read_text()))


def csp(header: str) -> dict[str, str]:
    return {part.split(" ", 1)[0]: part.split(" ", 1)[1] for part in header.split("; ")}


async def test_chat_page_has_the_only_wasm_csp_no_store_and_the_framing_allowlist(
    make_client: MakeClient, manifest: dict[str, Any]
) -> None:
    client = await make_client(
        {
            "homeserver": {"public_url": "https://matrix.keerpunt.test"},
            "portal": {"public_url": "https://keerpunt.test", "frame_ancestors": ["https://partner.test"]},
        }
    )
    resp = await client.get("/chat/?lang=en&host=https://partner.test&embed=1")
    assert resp.status == 200
    policy = csp(resp.headers["Content-Security-Policy"])
    assert policy["script-src"] == "'self' 'wasm-unsafe-eval'"
    assert "unsafe-inline" not in resp.headers["Content-Security-Policy"]
    assert "'unsafe-eval'" not in resp.headers["Content-Security-Policy"]
    assert policy["connect-src"] == "'self' https://matrix.keerpunt.test"
    # Web Workers (the proof of work before a start) only from the widget's own files.
    assert policy["worker-src"] == "'self'"
    assert policy["frame-ancestors"] == "'self' https://keerpunt.test https://partner.test"
    assert policy["object-src"] == "'none'" and policy["base-uri"] == "'none'"
    assert resp.headers["Cache-Control"] == "no-store"
    assert resp.headers["Referrer-Policy"] == "no-referrer"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert "camera=()" in resp.headers["Permissions-Policy"]
    assert resp.headers["Strict-Transport-Security"].startswith("max-age=")
    html = await resp.text()
    assert '<html lang="en" dir="ltr">' in html
    arabic = await (await client.get("/chat/?lang=ar")).text()
    assert '<html lang="ar" dir="rtl">' in arabic and ">خروج سريع</a>" in arabic
    # Quick exit comes first in the body, as a plain link without Referer.
    body = html.split("<body>", 1)[1]
    assert body.lstrip().startswith('<a class="kp-quick-exit" id="kp-quick-exit" href="https://www.buienradar.nl/"')
    assert 'rel="noreferrer"' in body
    assert f'src="/widget/{manifest["chat"]["script"]}"' in html
    config = json.loads(re.search(r'id="keerpunt-config">(.*?)</script>', html, re.S).group(1))  # type: ignore[union-attr]
    assert config["host"] == "https://partner.test"
    assert config["homeserver"] == "https://matrix.keerpunt.test"
    assert config["language"] == "en"


async def test_chat_inline_in_the_portals_own_chat_page_leaves_the_quick_exit_and_header_to_that_page(
    make_client: MakeClient, manifest: dict[str, Any]
) -> None:
    client = await make_client(
        {"portal": {"public_url": "https://keerpunt.test", "frame_ancestors": ["https://partner.test"]}}
    )

    async def own_exit_and_header(query: str) -> tuple[bool, bool]:
        html = await (await client.get(f"/chat/?{query}")).text()
        found = re.search(r'id="keerpunt-config">(.*?)</script>', html, re.S)
        assert found is not None
        return 'id="kp-quick-exit"' in html, not json.loads(found.group(1))["page_header"]

    # The portal's /nl/chat has its own "Snel weg" and header above the frame: one, not two.
    assert await own_exit_and_header("lang=nl&embed=inline&host=https://keerpunt.test") == (False, False)
    # A partner's page, the launcher's frame and the chat on its own keep the chat's own.
    assert await own_exit_and_header("lang=nl&embed=inline&host=https://partner.test") == (True, True)
    assert await own_exit_and_header("lang=nl&embed=1&host=https://keerpunt.test") == (True, True)
    assert await own_exit_and_header("lang=nl") == (True, True)


async def test_chat_page_ignores_a_host_outside_the_allowlist_and_a_bad_language(make_client: MakeClient) -> None:
    client = await make_client()
    resp = await client.get("/chat/?lang=xx&host=https://evil.test")
    html = await resp.text()
    config = json.loads(re.search(r'id="keerpunt-config">(.*?)</script>', html, re.S).group(1))  # type: ignore[union-attr]
    assert config["host"] is None
    assert config["language"] == "nl"
    assert "Strict-Transport-Security" not in resp.headers  # plain http in dev


async def test_page_config_cannot_break_out_of_its_script_block(make_client: MakeClient) -> None:
    client = await make_client({"portal": {"quick_exit_url": "https://weer.test/</script><script>alert(1)</script>"}})
    html = await (await client.get("/chat/")).text()
    assert html.count("<script") == html.count("</script>")
    assert "</script><script>alert(1)" not in html


async def test_wasm_is_served_as_application_wasm_precompressed_and_immutable(
    make_client: MakeClient, manifest: dict[str, Any]
) -> None:
    client = await make_client()
    wasm = next(name for name in manifest["sizes"] if name.endswith(".wasm"))
    resp = await client.get(f"/widget/{wasm}", headers={"Accept-Encoding": "gzip, br"}, auto_decompress=False)
    assert resp.status == 200
    assert resp.headers["Content-Type"] == "application/wasm"
    assert resp.headers["Content-Encoding"] == "br"
    assert resp.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert int(resp.headers["Content-Length"]) == manifest["sizes"][wasm]["brotli"]
    resp = await client.get(f"/widget/{wasm}", headers={"Accept-Encoding": "gzip"}, auto_decompress=False)
    assert resp.headers["Content-Encoding"] == "gzip"
    resp = await client.get(f"/widget/{wasm}", headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in resp.headers
    assert len(await resp.read()) == manifest["sizes"][wasm]["raw"]


async def test_embed_script_has_a_stable_revalidated_name_and_a_hashed_immutable_copy(
    make_client: MakeClient, manifest: dict[str, Any]
) -> None:
    client = await make_client()
    stable = await client.get("/widget/embed.js", headers={"Accept-Encoding": "br"}, auto_decompress=False)
    assert stable.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert "immutable" not in stable.headers["Cache-Control"]
    assert stable.headers["Cross-Origin-Resource-Policy"] == "cross-origin"
    hashed = await client.get(f"/widget/{manifest['embed']}")
    assert hashed.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert manifest["sizes"]["embed.js"]["brotli"] <= 5 * 1024, "the embed script must stay under 5 KB compressed"


async def test_only_built_files_are_served(make_client: MakeClient, manifest: dict[str, Any]) -> None:
    client = await make_client()
    for path in ("/widget/keerpunt-widget.json", "/widget/.vite/manifest.json", "/widget/../pyproject.toml"):
        assert (await client.get(path)).status == 404, path
    assert (await client.get("/widget/embed.js.br")).status == 404


async def test_without_a_build_the_chat_page_says_it_is_unavailable(make_client: MakeClient, tmp_path: Path) -> None:
    client = await make_client(dist=tmp_path / "no-dist")
    resp = await client.get("/chat/")
    assert resp.status == 200
    assert "De chat is nu niet beschikbaar." in await resp.text()
    assert (await client.get("/widget/embed.js")).status == 404


EXAMPLE_HOURS = {
    "hours": {
        "timezone": "Europe/Amsterdam",
        "monday": ["09:00-21:00"],
        "tuesday": ["09:00-21:00"],
        "wednesday": ["09:00-21:00"],
        "thursday": ["09:00-21:00"],
        "friday": ["09:00-21:00"],
        "saturday": ["12:00-18:00"],
        "sunday": [],
        "closed_on_public_holidays": True,
        "closed_dates": [],
        "special_hours": [],
        "apply_in_dev": True,
    }
}


def test_start_screen_gets_the_weekly_hours_and_the_next_opening_when_closed(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from portal.widget import Widget

    widget = Widget(make_test_config(tmp_path, EXAMPLE_HOURS))
    sunday_noon = datetime(2026, 11, 29, 11, 0, tzinfo=UTC)
    config = widget.page_config("nl", None, sunday_noon)
    assert {lang: config["hours"][lang] for lang in ("nl", "en", "pl")} == {
        "nl": "ma\u2013vr 09:00\u201321:00, za 12:00\u201318:00. Op feestdagen is de chat dicht.",
        "en": "Mon\u2013Fri 09:00\u201321:00, Sat 12:00\u201318:00. The chat is closed on public holidays.",
        "pl": "pon.\u2013pt. 09:00\u201321:00, sob. 12:00\u201318:00. W święta czat jest zamknięty.",
    }
    assert set(config["hours"]) == {"nl", "en", "pl", "ro", "bg", "uk", "ar"}
    assert config["open_now"] is False
    assert config["opens_at"] == "2026-11-30T09:00:00+01:00"
    monday = widget.page_config("en", None, datetime(2026, 11, 30, 12, 0, tzinfo=UTC))
    assert monday["open_now"] is True and monday["opens_at"] is None


def test_in_dev_the_start_screen_says_the_chat_is_open_day_and_night(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from portal.widget import Widget

    dev_hours = {"hours": {**EXAMPLE_HOURS["hours"], "apply_in_dev": False}}
    widget = Widget(make_test_config(tmp_path, dev_hours))
    sunday_night = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)
    config = widget.page_config("nl", None, sunday_night)
    assert config["open_now"] is True and config["opens_at"] is None
    assert {lang: config["hours"][lang] for lang in ("nl", "en", "ar")} == {
        "nl": "Dag en nacht: dit is een testversie.",
        "en": "Day and night: this is a test version.",
        "ar": "ليلًا ونهارًا: هذه نسخة تجريبية.",
    }


def test_the_widget_offers_a_return_code_only_when_the_bots_accept_one(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from portal.widget import Widget

    now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    off = Widget(make_test_config(tmp_path / "off")).page_config("nl", None, now)
    assert off["return_code"] is False and "return_code_days" not in off
    enabled = {"return_code": {"enabled": True, "valid_days": 10, "max_wrong": 3}}
    on = Widget(make_test_config(tmp_path / "on", enabled)).page_config("nl", None, now)
    assert (on["return_code"], on["return_code_days"], on["return_code_tries"]) == (True, 10, 3)
    assert "later_answer_hours" not in on  # write-later off: the widget says nothing about it


def test_the_widget_offers_to_write_later_only_when_it_is_on(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from portal.widget import Widget

    now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    enabled = {
        "return_code": {"enabled": True},
        "async": {"enabled": True, "offer_after_minutes": 20, "answer_within_hours": 12},
    }
    on = Widget(make_test_config(tmp_path / "on", enabled)).page_config("nl", None, now)
    assert (on["later_after_minutes"], on["later_answer_hours"]) == (20, 12)


async def test_the_chat_page_opened_from_the_launcher_preloads_the_sdk_and_the_crypto_wasm(
    make_client: MakeClient, manifest: dict[str, Any]
) -> None:
    warm = manifest["chat"]["warm"]
    assert warm["wasm"] and any("session" in m for m in warm["modules"]), warm
    client = await make_client()
    html = await (await client.get("/chat/?lang=nl&embed=1&warm=1")).text()
    for module in warm["modules"]:
        assert f'<link rel="modulepreload" href="/widget/{module}">' in html
    for wasm in warm["wasm"]:
        # Exactly the request the crypto's initAsync() makes (a fetch, CORS mode), or it is not used.
        assert f'<link rel="preload" href="/widget/{wasm}" as="fetch" type="application/wasm" crossorigin>' in html
    # Not opened by the visitor (a page with the chat inline, the chat page alone): nothing big loads early.
    cold = await (await client.get("/chat/?lang=nl&embed=inline")).text()
    assert "modulepreload" not in cold and "preload" not in cold
