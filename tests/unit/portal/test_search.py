"""Search finds articles by Dutch and English word forms, ranks them and highlights matches."""

from __future__ import annotations

import re

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from keerpunt.base.config import Config
from portal.highlight import mark, snippet
from portal.search import Document, SearchIndex, Tokens
from portal.site import Site

from .conftest import OWN_FORM, search

Client = TestClient[web.Request, web.Application]


def keys(site: Site, language: str, query: str) -> list[str]:
    return [hit.key for hit in site.indexes[language].search(query)]  # type: ignore[index]


def test_uitgebuit_finds_the_article_about_uitbuiting(site: Site) -> None:
    found = keys(site, "nl", "uitgebuit")
    assert found[0] == "/nl/artikel/wat-is-criminele-uitbuiting"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("geronseld", "/nl/artikel/zo-word-je-geronseld"),  # participle → ronselen, ronselaar
        ("geldezels", "/nl/artikel/geldezel-je-rekening-uitlenen"),  # plural
        ("schulden", "/nl/artikel/schulden-bij-criminelen"),
        ("uitbuting", "/nl/artikel/wat-is-criminele-uitbuiting"),  # one typo
    ],
)
def test_dutch_word_forms_find_their_article(site: Site, query: str, expected: str) -> None:
    found = keys(site, "nl", query)
    assert expected in found[:3], found[:5]


def test_accents_do_not_matter(site: Site) -> None:
    assert keys(site, "nl", "beëindigen") == keys(site, "nl", "beeindigen") != []


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("recruited", "/en/article/how-recruitment-works"),
        ("recruiting", "/en/article/how-recruitment-works"),
        ("exploited", "/en/article/what-is-criminal-exploitation"),
        ("mules", "/en/article/money-mules-lending-your-bank-account"),
        ("recruted", "/en/article/how-recruitment-works"),  # one typo
    ],
)
def test_english_word_forms_find_their_article(site: Site, query: str, expected: str) -> None:
    assert expected in keys(site, "en", query)[:3]


def test_search_stays_in_the_language_of_the_page(site: Site) -> None:
    assert all(k.startswith("/nl/") for k in keys(site, "nl", "politie police"))
    assert all(k.startswith("/en/") for k in keys(site, "en", "police politie"))


def test_title_matches_rank_above_body_matches() -> None:
    index = SearchIndex(
        "en",
        [
            Document("body", "Something else", "Nothing here", "recruitment " + "filler words " * 30),
            Document("title", "How recruitment works", "A summary", "filler words " * 30),
        ],
    )
    assert [h.key for h in index.search("recruited")] == ["title", "body"]


def test_documents_covering_more_of_the_query_rank_higher() -> None:
    index = SearchIndex(
        "nl",
        [
            Document("one", "Schulden", "over schulden", "schulden schulden schulden"),
            Document("both", "Schulden en dreiging", "bedreigd", "schulden en bedreigingen"),
            *(Document(f"other{i}", "Iets anders", "niets", "helemaal niets") for i in range(4)),
        ],
    )
    hits = index.search("schulden bedreigd")
    assert [h.key for h in hits] == ["both", "one"]


def test_unknown_words_and_empty_queries_find_nothing(site: Site) -> None:
    assert keys(site, "nl", "xyzzyqwv") == []
    assert keys(site, "nl", "") == []
    assert keys(site, "nl", "!!! ???") == []


def test_highlighting_marks_word_forms_and_escapes_everything_else(site: Site) -> None:
    stem = site.indexes["nl"].analyzer.stem
    stems = {stem("uitgebuit")}
    marked = mark("Ben je <b>uitgebuit</b>? Uitbuiting is strafbaar.", stems, stem)
    assert str(marked) == "Ben je &lt;b&gt;<mark>uitgebuit</mark>&lt;/b&gt;? <mark>Uitbuiting</mark> is strafbaar."


def test_snippets_show_the_passage_with_the_matches() -> None:
    text = " ".join(["woord"] * 100 + ["geldezel"] + ["woord"] * 100)
    stem = lambda w: "ldezel" if w == "geldezel" else w  # noqa: E731
    result = str(snippet(text, Tokens.of(text, stem), {"ldezel"}, stem))
    assert "<mark>geldezel</mark>" in result
    assert result.startswith("… ") and result.endswith(" …")
    assert len(result.split()) < 45


async def test_the_search_page_lists_highlighted_results(client: Client) -> None:
    response = await search(client, "/nl/zoeken", "uitgebuit")
    assert response.status == 200
    page = await response.text()
    assert 'href="/nl/artikel/wat-is-criminele-uitbuiting"' in page
    assert re.search(r"<mark>[Uu]itbuiting</mark>", page)
    assert 'value="uitgebuit"' in page
    assert response.headers["Cache-Control"] == "no-store"
    assert '<meta name="robots" content="noindex">' in page


async def test_the_english_search_page_finds_recruitment(client: Client) -> None:
    page = await (await search(client, "/en/search", "recruited")).text()
    assert 'href="/en/article/how-recruitment-works"' in page
    assert "<mark>recruitment</mark>" in page.lower() or "<mark>Recruitment</mark>" in page


async def test_the_search_page_escapes_the_query(client: Client) -> None:
    page = await (await search(client, "/nl/zoeken", '"><script>alert(1)</script>')).text()
    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


async def test_the_search_page_without_results_offers_the_chat(client: Client) -> None:
    page = await (await search(client, "/nl/zoeken", "xyzzyqwv")).text()
    assert "Niets gevonden" in page
    assert 'href="/nl/chat"' in page


async def test_an_overlong_query_is_refused_politely(client: Client) -> None:
    response = await search(client, "/en/search", "word " * 100)
    assert response.status == 200
    assert "too long" in await response.text()


async def test_a_search_never_sits_in_the_address(client: Client) -> None:
    """Issue 23, L2: the form posts; an address with ?q= shows the empty form and not the words."""
    page = await (await client.get("/nl/zoeken")).text()
    forms = re.findall(r'<form[^>]*role="search"[^>]*>', page)
    assert len(forms) == 2 and all('method="post"' in form and 'action="/nl/zoeken"' in form for form in forms)
    response = await client.get("/nl/zoeken", params={"q": "uitgebuit"})
    assert response.status == 200
    page = await response.text()
    assert "uitgebuit" not in page and "<mark>" not in page
    assert "Typ een woord" in page and response.headers["Cache-Control"] == "no-store"


async def test_a_search_posted_from_another_site_shows_nothing_of_it(client: Client, portal_config: Config) -> None:
    """A page elsewhere cannot make ours say its words ("0 results for 'call 06…'")."""
    text = "bel 0612345678 voor hulp"
    origin = portal_config.portal.public_url.rstrip("/")
    for headers in [
        {"Sec-Fetch-Site": "cross-site", "Origin": "null"},
        {"Sec-Fetch-Site": "same-site", "Origin": "https://sub.example.org"},
        {"Origin": "https://evil.example.org"},
        {"Origin": "null"},
        {},
    ]:
        response = await client.post("/nl/zoeken", data={"q": text}, headers=headers)
        assert response.status == 403, headers
        page = await response.text()
        assert "0612345678" not in page and "Typ een woord" in page, headers
        assert "Set-Cookie" not in response.headers
    # Our own page: by Sec-Fetch-Site, or (a browser without it) by an Origin that is ours.
    for headers in [OWN_FORM, {"Origin": origin}]:
        response = await client.post("/nl/zoeken", data={"q": text}, headers=headers)
        assert response.status == 200 and "0612345678" in await response.text(), headers
    # Not a form, or far too big for one: the empty form, nothing echoed.
    response = await client.post("/nl/zoeken", data={"q": "x" * 5000}, headers=OWN_FORM)
    assert response.status == 403 and "xxxxx" not in await response.text()
    response = await client.post("/nl/zoeken", data=b"\xff\xfe", headers={**OWN_FORM, "Content-Type": "text/plain"})
    assert response.status == 200 and "Typ een woord" in await response.text()


def test_snippets_pick_the_densest_stretch() -> None:
    text = " ".join(["schuld"] + ["woord"] * 60 + ["schuld", "bedreigd", "schuld"] + ["woord"] * 60)
    result = str(snippet(text, Tokens.of(text, str), {"schuld", "bedreigd"}, str))
    assert result.count("<mark>") == 3
