"""Broken or hostile Markdown/HTML in content is rendered inert (SECURITY.md item 18)."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from portal.app import create_app
from portal.markup import plain_text, render_markdown, sanitise
from tests.support.synapse import make_test_config
from tests.unit.portal.conftest import search

HOSTILE_MARKDOWN = """---
title: Vijandige <script>alert('title')</script> tekst
summary: Samenvatting met <img src=x onerror=alert('summary')>
audience: [young]
topics: [safety]
language: nl
updated: 2026-11-28
translation_key: hostile
---
# Kop

<script>alert('body')</script>

<img src="x" onerror="alert('img')">

<a href="javascript:alert('raw')" onclick="alert('click')">raw link</a>

[js-link](javascript:alert('md')) [JS-LINK](JaVaScRiPt:alert('md2')) [data-link](data:text/html;base64,PHNjcmlwdD4=)
[vb](vbscript:msgbox) [proto](//evil.example/x)
[goed](/nl/artikel/zo-word-je-geronseld) [extern](https://www.politie.nl/) [mail](mailto:a@b.nl) [bel](tel:112)

<svg onload="alert('svg')"></svg> <iframe src="https://evil.example"></iframe>

<style>body{display:none}</style>

*unclosed **emphasis [broken link(

| kolom | <b onmouseover="x()">b</b> |
|---|---|
| 1 | 2 |
"""

SAFE_TAGS = {"p", "h2", "h3", "h4", "ul", "ol", "li", "strong", "em", "a", "blockquote", "code", "pre", "table",
             "thead", "tbody", "tr", "th", "td", "hr", "br", "del", "s"}  # fmt: skip
SAFE_SCHEMES = ("http://", "https://", "mailto:", "tel:", "/")


class Elements(HTMLParser):
    """Every element and attribute the browser would see."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, dict(attrs)))


def elements(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = Elements()
    parser.feed(html)
    return parser.found


def assert_inert(html: str) -> None:
    for tag, attrs in elements(html):
        assert tag in SAFE_TAGS, tag
        for name, value in attrs.items():
            assert not name.startswith("on") and name != "style", (tag, name)
            if name == "href":
                assert value is not None and value.startswith(SAFE_SCHEMES) and not value.startswith("//"), value


def test_raw_html_in_markdown_is_shown_as_text_not_run() -> None:
    html = render_markdown("<script>alert(1)</script>\n\nHi <img src=x onerror=alert(1)>")
    assert_inert(html)
    assert [tag for tag, _ in elements(html)] == ["p", "p"]
    assert "&lt;script&gt;" in html


@pytest.mark.parametrize("scheme", ["javascript:alert(1)", "JAVASCRIPT:alert(1)", "data:text/html,x", "vbscript:x"])
def test_dangerous_link_schemes_are_dropped(scheme: str) -> None:
    html = render_markdown(f"[klik]({scheme}) [goed](https://example.nl/)")
    assert_inert(html)
    assert [a.get("href") for tag, a in elements(html) if tag == "a"] == ["https://example.nl/"]


def test_the_allowlist_strips_what_markdown_it_would_never_make() -> None:
    dirty = (
        '<p onclick="x()">a<script>alert(1)</script><img src=x onerror=alert(1)>'
        '<a href="javascript:alert(1)">j</a><a href="https://ok.example/">ok</a>'
        '<iframe src="https://evil.example"></iframe><h1 style="color:red">t</h1></p>'
    )
    clean = sanitise(dirty)
    assert_inert(clean)
    assert "alert" not in clean  # script content is removed, not kept as text
    assert [a.get("href") for tag, a in elements(clean) if tag == "a"] == [None, "https://ok.example/"]


def test_safe_links_survive() -> None:
    html = render_markdown("[a](/nl/artikel/x) [b](https://example.nl/) [c](mailto:a@b.nl) [d](tel:112)")
    for href in ("/nl/artikel/x", "https://example.nl/", "mailto:a@b.nl", "tel:112"):
        assert f'href="{href}"' in html


def test_plain_text_keeps_words_apart() -> None:
    assert plain_text(render_markdown("## Kop\n\nEen zin.\n\n- een\n- twee")) == "Kop Een zin. een twee"


async def test_a_hostile_article_renders_inert_in_the_page(content_copy: Path, tmp_path: Path) -> None:
    (content_copy / "nl" / "vijandig.md").write_text(HOSTILE_MARKDOWN, "utf-8")
    english = HOSTILE_MARKDOWN.replace("language: nl", "language: en")
    (content_copy / "en" / "hostile.md").write_text(english, "utf-8")
    config = make_test_config(tmp_path / "data", {"portal": {"content_dir": str(content_copy)}})
    async with TestClient(TestServer(create_app(config))) as client:
        response = await client.get("/nl/artikel/vijandig")
        assert response.status == 200
        page = await response.text()
        body = page.split('<div class="prose">', 1)[1].split("</div>", 1)[0]
        assert_inert(body)
        # The title and summary are autoescaped by Jinja.
        assert "&lt;script&gt;alert(" in page
        assert not [tag for tag, _ in elements(page) if tag in ("img", "iframe", "style")]
        assert [a.get("class") for tag, a in elements(page) if tag == "svg"] == ["logo"]
        assert not [(t, n) for t, a in elements(page) for n in a if n.startswith("on") or n == "style"]
        scripts = [attrs for tag, attrs in elements(page) if tag == "script"]
        own = ("/static/", "/widget/")  # our own files only: quick exit, self-check, the chat widget
        assert scripts and all(str(attrs.get("src", "")).startswith(own) for attrs in scripts), scripts
        assert 'href="/nl/artikel/zo-word-je-geronseld"' in body
        assert 'href="https://www.politie.nl/"' in body
        # Search over hostile content escapes it too.
        results = await (await search(client, "/nl/zoeken", "vijandige alert")).text()
        assert all(str(a.get("src", "")).startswith(own) for t, a in elements(results) if t == "script")
        assert "&lt;script&gt;" in results or "alert" in results
        assert "/nl/artikel/vijandig" in results
