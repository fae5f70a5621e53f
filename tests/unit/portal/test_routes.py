"""Every route answers in the site's style, in the right language, with the right links."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from keerpunt.site.content import LANGUAGES
from portal.app import VIEWS_KEY
from portal.site import Site

from .conftest import OWN_FORM, ClientFactory

Client = TestClient[web.Request, web.Application]

PAGES = {
    # path: (language, a text the page must show)
    "/": ("nl", "Wordt er misbruik van je gemaakt?"),
    "/nl/": ("nl", "Wordt er misbruik van je gemaakt?"),
    "/en/": ("en", "Is someone taking advantage of you?"),
    "/nl/jongeren": ("nl", "Voor jongeren"),
    "/nl/naasten": ("nl", "Voor ouders, familie en vrienden"),
    "/nl/professionals": ("nl", "Voor professionals"),
    "/en/young-people": ("en", "For young people"),
    "/en/relatives": ("en", "For parents, family and friends"),
    "/en/professionals": ("en", "For professionals"),
    "/nl/artikel/wat-is-criminele-uitbuiting": ("nl", "Wat is criminele uitbuiting?"),
    "/en/article/what-is-criminal-exploitation": ("en", "What is criminal exploitation?"),
    "/nl/onderwerpen": ("nl", "Onderwerpen"),
    "/en/topics": ("en", "Topics"),
    "/nl/onderwerp/geldezels": ("nl", "Geldezels"),
    "/en/topic/money-mules": ("en", "Money mules"),
    "/nl/campagne/geldezel-no-way": ("nl", "Geldezel? No way!"),
    "/en/campaign/geldezel-no-way": ("en", "Money mule? No way!"),
    "/nl/veiligheid": ("nl", "Veilig internetten"),
    "/en/safety": ("en", "Browse safely"),
    "/nl/privacy": ("nl", "Privacyverklaring"),
    "/en/privacy": ("en", "Privacy statement"),
    "/nl/over-keerpunt": ("nl", "Over Keerpunt"),
    "/en/about": ("en", "About Keerpunt"),
    "/nl/zelftest": ("nl", "Herken jij dit?"),
    "/en/self-check": ("en", "Do you recognise this?"),
    "/nl/chat": ("nl", "De chat wordt geladen"),
    "/en/chat": ("en", "The chat is loading"),
    "/nl/zoeken": ("nl", "Typ een woord"),
    "/en/search": ("en", "<h1>Search</h1>"),
}


def first_tab_stop(page: str) -> str:
    body = re.split(r"<body\b[^>]*>", page, maxsplit=1)[1]
    return re.search(r"<(a|button|input)\b[^>]*>", body).group(0)  # type: ignore[union-attr]


@pytest.mark.parametrize("path", PAGES)
async def test_every_page_answers_in_its_language_with_quick_exit_first(
    client: Client, path: str, portal_config: object
) -> None:
    language, text = PAGES[path]
    response = await client.get(path)
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    page = await response.text()
    assert f'<html lang="{language}"' in page
    assert text in page
    quick_exit = first_tab_stop(page)
    assert "data-quick-exit" in quick_exit and 'href="https://www.buienradar.nl/"' in quick_exit
    assert 'rel="noreferrer noopener"' in quick_exit
    assert page.index('class="skip-link" href="#main"') < page.index("<header")
    assert 'id="main"' in page
    assert "<script>" not in page and " style=" not in page and " onclick=" not in page


async def test_every_article_and_page_of_the_content_is_served(client: Client, site: Site) -> None:
    for entry in site.articles:
        response = await client.get(entry.path)
        assert response.status == 200, entry.path
        assert entry.article.title.replace("'", "&#39;").replace('"', "&#34;") in await response.text()


async def test_an_article_links_its_translation_with_hreflang(client: Client) -> None:
    page = await (await client.get("/nl/artikel/zo-word-je-geronseld")).text()
    assert '<link rel="alternate" hreflang="en" href="http://127.0.0.1:' in page
    assert re.search(r'hreflang="en" href="http://127\.0\.0\.1:\d+/en/article/how-recruitment-works"', page)
    switch = page.split('class="wrap language-switch"', 1)[1].split("</nav>", 1)[0]
    assert '<a href="/en/article/how-recruitment-works" lang="en" hreflang="en" dir="ltr">English</a>' in switch
    # A language without this article: the switch leads to its home page.
    assert '<a href="/pl/" lang="pl" hreflang="pl" dir="ltr">Polski</a>' in switch


async def test_an_article_shows_related_articles_and_a_chat_button(client: Client) -> None:
    page = await (await client.get("/nl/artikel/geldezel-je-rekening-uitlenen")).text()
    related = page.split('id="related-heading"', 1)[1]
    assert related.count('<li class="card">') == 3
    assert "/nl/artikel/geldezel-je-rekening-uitlenen" not in related
    assert 'href="/nl/chat" data-chat' in page
    assert "Bijgewerkt op 28 november 2026" in page


async def test_the_campaign_chat_button_carries_the_campaign(client: Client) -> None:
    page = await (await client.get("/nl/campagne/geldezel-no-way")).text()
    assert 'href="/nl/chat?campaign=geldezel-no-way"' in page
    assert 'href="/nl/artikel/geldezel-je-rekening-uitlenen"' in page


async def test_the_privacy_and_about_pages_show_contact_details_from_config(client: Client) -> None:
    for path in ("/nl/privacy", "/en/about"):
        page = await (await client.get(path)).text()
        assert 'href="mailto:privacy@example.org"' in page
        assert 'href="mailto:info@example.org"' in page
    assert "na 30 dagen helemaal verwijderd" in await (await client.get("/nl/privacy")).text()


async def test_contact_details_and_retention_follow_the_config(make_client: ClientFactory) -> None:
    client = await make_client(
        {"portal": {"contact": {"privacy_email": "fg@keerpunt.test"}}, "retention": {"case_room_days": 14}}
    )
    page = await (await client.get("/nl/privacy")).text()
    assert 'href="mailto:fg@keerpunt.test"' in page
    assert "na 14 dagen helemaal verwijderd" in page
    assert "after 14 days" in await (await client.get("/en/privacy")).text()
    # The content names no number of days of its own that could contradict the config.
    articles = ("/nl/artikel/je-privacy-en-anonimiteit", "/en/article/your-privacy-and-anonymity")
    for path in ("/nl/privacy", "/en/privacy", *articles):
        page = await (await client.get(path)).text()
        assert not re.search(r"\b30 (dagen|days)\b", page), path


async def test_fixed_pages_also_answer_at_their_article_address(client: Client) -> None:
    response = await client.get("/nl/artikel/privacyverklaring", allow_redirects=False)
    assert response.status == 301
    assert response.headers["Location"] == "/nl/privacy"
    response = await client.get("/en/article/browse-safely", allow_redirects=False)
    assert response.headers["Location"] == "/en/safety"


async def test_links_to_fixed_pages_point_at_their_own_address(client: Client) -> None:
    page = await (await client.get("/nl/privacy")).text()
    body = page.split('<div class="prose">', 1)[1].split("</div>", 1)[0]
    assert 'href="/nl/over-keerpunt"' in body and 'href="/nl/veiligheid"' in body
    assert "/nl/artikel/over-keerpunt" not in body and "/nl/artikel/veilig-internetten" not in body
    assert "&#34;" not in body.split("<a ", 1)[1].split(">", 1)[0]


async def test_the_language_roots_get_a_slash(client: Client) -> None:
    response = await client.get("/en", allow_redirects=False)
    assert (response.status, response.headers["Location"]) == (301, "/en/")


async def test_the_self_check_sends_nothing_and_works_without_javascript(client: Client) -> None:
    page = await (await client.get("/nl/zelftest")).text()
    assert "<form" not in page.split("data-self-check", 1)[1].split("</main>")[0]
    assert page.count('type="checkbox"') == 10
    assert page.count('autocomplete="off"') >= 10
    # Without JavaScript all three explanations are visible; the buttons only appear with it.
    assert page.count('data-result="') == 3
    assert re.search(r"data-self-check-show hidden", page)
    assert "/static/self-check." in page


async def test_the_chat_page_mounts_the_widget_inline(client: Client) -> None:
    response = await client.get("/nl/chat")
    page = await response.text()
    assert response.headers["Cache-Control"] == "no-store"
    assert 'id="chat" data-chat-root' in page
    assert "De chat wordt geladen" in page
    assert re.search(r'<script src="/widget/embed\.[0-9a-f]+\.js" async>', page)
    assert '<meta name="robots" content="noindex">' in page


async def test_unknown_pages_get_a_404_in_the_site_style(client: Client) -> None:
    for path, language, text in (
        ("/nl/artikel/bestaat-niet", "nl", "Deze pagina bestaat niet"),
        ("/en/article/does-not-exist", "en", "This page does not exist"),
        ("/whatever", "nl", "Deze pagina bestaat niet"),
        ("/static/nothing.css", "nl", "Deze pagina bestaat niet"),
    ):
        response = await client.get(path)
        assert response.status == 404, path
        page = await response.text()
        assert f'<html lang="{language}"' in page and text in page
        assert "data-quick-exit" in first_tab_stop(page)


async def test_a_crash_gets_a_500_in_the_site_style_without_details(make_client: ClientFactory) -> None:
    def boom(language: str, query: str) -> str:
        raise RuntimeError("secret internals")

    client = await make_client(setup=lambda app: setattr(app[VIEWS_KEY], "render_search", boom))
    response = await client.post("/en/search", data={"q": "x"}, headers=OWN_FORM)
    assert response.status == 500
    page = await response.text()
    assert "Something went wrong" in page and "secret internals" not in page and "Traceback" not in page
    assert "Content-Security-Policy" in response.headers


async def test_sitemap_lists_every_page_with_alternates(client: Client, site: Site) -> None:
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9", "x": "http://www.w3.org/1999/xhtml"}
    response = await client.get("/sitemap.xml")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("application/xml")
    index = ET.fromstring(await response.read())  # noqa: S314 - our own sitemap, not untrusted input
    maps = [m.findtext("s:loc", namespaces=ns) or "" for m in index.findall("s:sitemap", ns)]
    assert [m.rsplit("/", 1)[1] for m in maps] == [f"sitemap-{lang}.xml" for lang in LANGUAGES]
    urls = []
    for loc in maps:
        part = await client.get("/" + loc.split(":", 2)[2].split("/", 1)[1])
        assert part.status == 200 and part.headers["Content-Type"].startswith("application/xml")
        urls += ET.fromstring(await part.read()).findall("s:url", ns)  # noqa: S314 - our own sitemap
    locations = {u.findtext("s:loc", namespaces=ns) for u in urls}
    assert all(loc and loc.startswith("http://127.0.0.1:") for loc in locations)
    paths = {loc.split(":", 2)[2].split("/", 1)[1] for loc in locations if loc}
    for entry in site.articles:
        assert entry.path.lstrip("/") in paths
    assert "nl/zoeken" not in paths and "nl/chat" not in paths and "pl/czat" not in paths
    article = next(
        u for u in urls if (u.findtext("s:loc", namespaces=ns) or "").endswith("/nl/artikel/zo-word-je-geronseld")
    )
    hreflangs = {link.get("hreflang") for link in article.findall("x:link", ns)}
    assert hreflangs == {"nl", "en"}
    assert article.findtext("s:lastmod", namespaces=ns) == "2026-11-28"
    translated = next(
        u
        for u in urls
        if (u.findtext("s:loc", namespaces=ns) or "").endswith("/nl/artikel/wat-is-criminele-uitbuiting")
    )
    assert {link.get("hreflang") for link in translated.findall("x:link", ns)} == set(LANGUAGES)


async def test_robots_txt_points_to_the_sitemap_and_keeps_searches_out(client: Client) -> None:
    response = await client.get("/robots.txt")
    text = await response.text()
    assert response.status == 200 and response.headers["Content-Type"].startswith("text/plain")
    assert "Disallow: /nl/zoeken" in text and "Disallow: /api/" in text
    assert re.search(r"Sitemap: http://127\.0\.0\.1:\d+/sitemap\.xml", text)
