"""The five languages beside Dutch and English (issue 26): core pages, direction, switch, choice."""

from __future__ import annotations

import re

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from keerpunt.site.content import FULL_LANGUAGES, LANGUAGES, Language
from keerpunt.site.routes import url
from portal.i18n import load_translations, preferred_language
from portal.site import Site

from .conftest import search
from .test_routes import first_tab_stop

Client = TestClient[web.Request, web.Application]
NEW: tuple[Language, ...] = tuple(lang for lang in LANGUAGES if lang not in FULL_LANGUAGES)
# Translation keys of the core articles and pages every language has.
CORE_KEYS = ("what-is-exploitation", "signals-young", "signals-relatives", "safety", "emergency")
NAMES = {
    "nl": "Nederlands",
    "en": "English",
    "pl": "Polski",
    "ro": "Română",
    "bg": "Български",
    "uk": "Українська",
    "ar": "العربية",
}


def core_paths(site: Site, language: Language) -> list[str]:
    paths = [url(name, language) for name in ("home", "selfcheck", "chat", "topics", "search")]
    paths += [site.page(language, key).path for key in CORE_KEYS]
    paths.append(url("audience", language, audience="relatives"))
    return paths


def test_the_new_languages_are_the_five_of_issue_26() -> None:
    assert NEW == ("pl", "ro", "bg", "uk", "ar")


@pytest.mark.parametrize("language", NEW)
async def test_each_core_page_answers_with_lang_dir_and_quick_exit_first(
    client: Client, site: Site, language: Language
) -> None:
    direction = "rtl" if language == "ar" else "ltr"
    quick_exit = site.translations[language]("quick_exit.label")
    for path in core_paths(site, language):
        response = await client.get(path)
        assert response.status == 200, path
        assert response.headers["Content-Language"] == language
        page = await response.text()
        assert f'<html lang="{language}" dir="{direction}">' in page, path
        first = first_tab_stop(page)
        assert "data-quick-exit" in first, path
        assert f">{quick_exit}</a>" in page, path
        # Every language is in the switch, named in itself; this one marked as current.
        switch = page.split('class="wrap language-switch"', 1)[1].split("</nav>", 1)[0]
        for other, name in NAMES.items():
            link = rf'lang="{other}" hreflang="{other}" dir="(ltr|rtl)"[^>]*>{name}</a>'
            assert re.search(link, switch), (path, other)
        assert f'hreflang="{language}" dir="{direction}" aria-current="true">' in switch


@pytest.mark.parametrize("language", NEW)
async def test_core_articles_show_their_translated_title_and_link_every_translation(
    client: Client, site: Site, language: Language
) -> None:
    for key in CORE_KEYS:
        entry = site.page(language, key)
        page = await (await client.get(entry.path)).text()
        assert entry.article.title.replace("'", "&#39;").replace('"', "&#34;") in page
        for other in LANGUAGES:
            version = site.by_key[(other, key)]
            assert f'hreflang="{other}" href="http://127.0.0.1:' in page
            assert f'<a href="{version.path}" lang="{other}"' in page


async def test_an_article_in_english_only_is_listed_by_its_english_title_with_a_note(
    client: Client, site: Site
) -> None:
    page = await (await client.get(url("audience", "pl", audience="young"))).text()
    english = site.page("en", "money-mule")
    assert f'<a href="{english.path}" lang="en" hreflang="en" dir="ltr">{english.article.title}</a>' in page
    assert site.translations["pl"]("article.only_in") in page
    # The Polish article comes first, without a note.
    polish = site.page("pl", "signals-young")
    assert page.index(polish.path) < page.index(english.path)


async def test_pages_a_language_lacks_link_to_english_and_say_so(client: Client) -> None:
    page = await (await client.get("/ar/")).text()
    footer = page.split('class="site-footer"', 1)[1]
    assert '<a href="/en/privacy" hreflang="en">' in footer
    assert "(بالإنجليزية)" in footer
    assert '<a href="/ar/al-aman">' in footer  # the safety page exists in Arabic
    assert (await client.get("/pl/privacy")).status == 404


async def test_search_works_in_a_new_language(client: Client, site: Site) -> None:
    response = await search(client, url("search", "pl"), "wyzysk")
    page = await response.text()
    assert response.status == 200 and '<html lang="pl"' in page
    assert site.page("pl", "what-is-exploitation").path in page
    response = await search(client, url("search", "uk"), "експлуатація")
    assert site.page("uk", "what-is-exploitation").path in await response.text()


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("", "nl"),
        ("pl-PL,pl;q=0.9,en-US;q=0.8,en;q=0.7", "pl"),
        ("de-DE,de;q=0.9,ar;q=0.8,en;q=0.5", "ar"),
        ("en;q=0.4, uk;q=0.6", "uk"),
        ("pl;q=0, ro", "ro"),
        ("pl;q=0", "nl"),
        ("fr, *;q=0.1", "nl"),
        ("BG", "bg"),
        ("pl;q=banana, en", "en"),
    ],
)
def test_the_preferred_language_comes_from_accept_language(header: str, expected: str) -> None:
    assert preferred_language(header, "nl") == expected


async def test_a_first_visit_gets_the_home_page_in_the_browsers_language(client: Client) -> None:
    response = await client.get("/", headers={"Accept-Language": "ar-MA,ar;q=0.9,fr;q=0.8"})
    assert response.status == 200
    assert '<html lang="ar" dir="rtl">' in await response.text()
    assert "Accept-Language" in response.headers["Vary"]
    assert "Set-Cookie" not in response.headers
    response = await client.get("/", headers={"Accept-Language": "fr"})
    assert '<html lang="nl" dir="ltr">' in await response.text()


def test_every_language_has_the_same_text_keys_and_names_itself() -> None:
    translations = load_translations()
    assert {lang: translations[lang]("language.name") for lang in LANGUAGES} == NAMES


async def test_the_chat_page_links_what_happens_in_a_chat_in_english_where_untranslated(client: Client) -> None:
    page = await (await client.get("/pl/czat")).text()
    assert '<a href="/en/article/what-happens-when-you-chat" hreflang="en">' in page
    assert "(po angielsku)" in page.split('class="chat-after"', 1)[1]
    dutch = await (await client.get("/nl/chat")).text()
    assert '<a href="/nl/artikel/wat-gebeurt-er-als-je-chat">' in dutch
