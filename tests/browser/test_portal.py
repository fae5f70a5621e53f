"""The portal in Debian's Chromium: accessibility, quick exit, language switch, privacy.

One browser (the ``browser`` fixture) and one real portal server per module. Every request to a host other than the
portal is aborted and recorded; only the quick-exit test lets its neutral target through (and
answers it with a tiny page itself, so nothing leaves the machine).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from aiohttp import web
from playwright.async_api import Browser, BrowserContext, Page, Route

from keerpunt.base.config import Config
from portal.app import create_app
from portal.site import Site
from tests.support.synapse import free_port, make_test_config

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
EXIT_HOST = "www.buienradar.nl"
EXIT_PAGE = "<!doctype html><html lang='nl'><title>Weer</title><p>Het weer</p></html>"

PAGE_TYPES = {
    "home": "/nl/",
    "home-en": "/en/",
    "audience": "/nl/jongeren",
    "article-nl": "/nl/artikel/zo-word-je-geronseld",
    "article-en": "/en/article/how-recruitment-works",
    "topics": "/nl/onderwerpen",
    "topic": "/nl/onderwerp/geldezels",
    "search": "/nl/zoeken?q=uitgebuit",
    "search-empty": "/en/search?q=xyzzy",
    "campaign": "/nl/campagne/geldezel-no-way",
    "safety": "/nl/veiligheid",
    "privacy": "/nl/privacy",
    "about": "/en/about",
    "self-check": "/nl/zelftest",
    "chat": "/nl/chat",
    "not-found": "/nl/bestaat-niet",
    # A core page in each of the five languages of issue 26 (Arabic right to left).
    "home-pl": "/pl/",
    "article-ro": "/ro/articol/ce-este-exploatarea-infractionala",
    "safety-bg": "/bg/sigurnost",
    "self-check-uk": "/uk/test",
    "article-ar": "/ar/maqal/al-musaada-fi-al-tawari",
    "home-ar": "/ar/",
}


@dataclass
class Portal:
    base: str
    config: Config
    foreign: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return self.base + path


@pytest.fixture(scope="module")
async def portal(tmp_path_factory: pytest.TempPathFactory, site: Site) -> AsyncIterator[Portal]:
    port = free_port()
    config = make_test_config(
        tmp_path_factory.mktemp("browser"), {"portal": {"port": port, "public_url": f"http://127.0.0.1:{port}"}}
    )
    runner = web.AppRunner(create_app(config, site), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield Portal(f"http://127.0.0.1:{port}", config)
    await runner.cleanup()


async def guarded(browser: Browser, portal: Portal, **options: object) -> BrowserContext:
    """A fresh context where anything not on the portal is aborted and recorded."""
    context = await browser.new_context(**options)  # type: ignore[arg-type]
    origin = urlsplit(portal.base).netloc

    async def only_portal(route: Route) -> None:
        if urlsplit(route.request.url).netloc == origin:
            await route.continue_()
        else:
            portal.foreign.append(route.request.url)
            await route.abort()

    await context.route("**/*", only_portal)
    return context


async def serve_exit_target(context: BrowserContext) -> None:
    """Answer the quick-exit target locally instead of reaching the internet."""

    async def fulfil(route: Route) -> None:
        await route.fulfill(status=200, content_type="text/html", body=EXIT_PAGE)

    await context.route(f"https://{EXIT_HOST}/**", fulfil)


async def visit(tab: Page, portal: Portal, path: str) -> None:
    """Open ``path``; a search ("/nl/zoeken?q=…") is typed into the page's form and sent, as a visitor does."""
    base, _, query = path.partition("?q=")
    await tab.goto(portal.url(base))
    if query:
        await tab.locator("#q-page").fill(query)
        async with tab.expect_navigation():
            await tab.locator("#q-page").press("Enter")


@pytest.fixture
async def page(browser: Browser, portal: Portal) -> AsyncIterator[Page]:
    context = await guarded(browser, portal)
    await serve_exit_target(context)
    yield await context.new_page()
    await context.close()


@pytest.mark.parametrize("name", PAGE_TYPES)
async def test_each_page_type_has_no_serious_accessibility_violations(
    browser: Browser, portal: Portal, name: str
) -> None:
    assert AXE.exists(), "run `npm ci` in the repository root to install axe-core"
    # axe is injected as a script, which the portal's CSP rightly refuses: bypass it for axe only.
    context = await guarded(browser, portal, bypass_csp=True)
    try:
        tab = await context.new_page()
        await visit(tab, portal, PAGE_TYPES[name])
        await tab.add_script_tag(path=str(AXE))
        result = await tab.evaluate(
            """() => axe.run(document, {runOnly: {type: 'tag',
                 values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})"""
        )
        serious = [
            (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
            for v in result["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        assert not serious, serious
        assert result["passes"], "axe ran no checks"
    finally:
        await context.close()


async def test_the_self_check_result_is_accessible_too(browser: Browser, portal: Portal) -> None:
    context = await guarded(browser, portal, bypass_csp=True)
    try:
        tab = await context.new_page()
        await tab.goto(portal.url("/nl/zelftest"))
        await tab.get_by_label("Iemand heeft mij of mijn familie bedreigd.").check()
        await tab.get_by_role("button", name="Wat betekent dit?").click()
        await tab.add_script_tag(path=str(AXE))
        result = await tab.evaluate("() => axe.run(document)")
        assert not [v["id"] for v in result["violations"] if v["impact"] in ("serious", "critical")]
    finally:
        await context.close()


async def test_quick_exit_is_the_first_tab_stop_and_the_skip_link_the_second(page: Page, portal: Portal) -> None:
    await page.goto(portal.url("/nl/artikel/zo-word-je-geronseld"))
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.hasAttribute('data-quick-exit')")
    assert await page.evaluate("document.activeElement.textContent") == "Snel weg"
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.getAttribute('href')") == "#main"


async def test_the_language_switch_keeps_the_page(page: Page, portal: Portal) -> None:
    switch = page.get_by_role("navigation", name="Taal")
    await page.goto(portal.url("/nl/artikel/zo-word-je-geronseld"))
    await switch.get_by_role("link", name="English").click()
    await page.wait_for_url(portal.url("/en/article/how-recruitment-works"))
    assert await page.evaluate("document.documentElement.lang") == "en"
    await page.get_by_role("navigation", name="Language").get_by_role("link", name="Nederlands").click()
    await page.wait_for_url(portal.url("/nl/artikel/zo-word-je-geronseld"))
    for nl_path, en_path in (
        ("/nl/jongeren", "/en/young-people"),
        ("/nl/onderwerp/geldezels", "/en/topic/money-mules"),
    ):
        await page.goto(portal.url(nl_path))
        await switch.get_by_role("link", name="English").click()
        await page.wait_for_url(portal.url(en_path))
    # Into Arabic and back: the translated article keeps its page, the direction follows.
    await page.goto(portal.url("/nl/artikel/wat-is-criminele-uitbuiting"))
    await switch.get_by_role("link", name="العربية").click()
    await page.wait_for_url(portal.url("/ar/maqal/ma-huwa-al-istighlal-al-ijrami"))
    assert await page.evaluate("[document.documentElement.lang, document.documentElement.dir]") == ["ar", "rtl"]
    await page.get_by_role("navigation", name="اللغة").get_by_role("link", name="Polski").click()
    await page.wait_for_url(portal.url("/pl/artykul/czym-jest-wyzysk-przestepczy"))
    assert await page.evaluate("document.documentElement.dir") == "ltr"
    # Nothing is kept: no cookie, no storage; a fresh visit to "/" follows the browser again.
    assert await page.context.cookies() == []
    assert await page.evaluate("localStorage.length + sessionStorage.length") == 0


REPORT_EXIT = """
window.addEventListener('keerpunt:quick-exit', () => {
  const cover = document.querySelector('.quick-exit-cover');
  window.reportExit({
    covered: cover !== null && getComputedStyle(cover).position === 'fixed',
    mainHidden: getComputedStyle(document.querySelector('main')).visibility === 'hidden',
    title: document.title,
  });
});
"""


async def test_quick_exit_by_click_covers_the_page_and_leaves_no_way_back(browser: Browser, portal: Portal) -> None:
    context = await guarded(browser, portal)
    await serve_exit_target(context)
    reports: list[dict[str, object]] = []

    def report(values: dict[str, object]) -> None:
        reports.append(values)

    await context.expose_function("reportExit", report)
    await context.add_init_script(REPORT_EXIT)
    try:
        tab = await context.new_page()
        await tab.goto(portal.url("/nl/"))
        await tab.goto(portal.url("/nl/artikel/zo-word-je-geronseld"))
        await tab.get_by_role("link", name="Snel weg").click()
        await tab.wait_for_url(f"https://{EXIT_HOST}/")
        assert await tab.title() == "Weer"
        # The page was covered before leaving (and the widget's hook event fired).
        assert reports == [{"covered": True, "mainHidden": True, "title": ""}]
        await tab.go_back()
        # location.replace: Back skips the page the visitor fled from.
        assert tab.url == portal.url("/nl/")
    finally:
        await context.close()


async def test_quick_exit_by_pressing_shift_three_times(page: Page, portal: Portal) -> None:
    await page.goto(portal.url("/en/article/how-recruitment-works"))
    for _ in range(3):
        await page.keyboard.press("Shift")
    await page.wait_for_url(f"https://{EXIT_HOST}/")


async def assert_still_on(page: Page, url: str) -> None:
    await page.wait_for_timeout(300)
    assert page.url == url
    assert await page.locator(".quick-exit-cover").count() == 0


async def test_shift_with_a_letter_or_another_key_between_does_not_exit(page: Page, portal: Portal) -> None:
    url = portal.url("/nl/zoeken")
    await page.goto(url)
    await page.locator("#q-page").focus()
    await page.keyboard.press("Shift")
    await page.keyboard.press("Shift")
    await page.keyboard.press("Shift+A")  # typing a capital letter is not a third press
    await assert_still_on(page, url)
    await page.keyboard.press("Shift")
    await page.keyboard.press("a")  # any other key starts the count again
    await page.keyboard.press("Shift")
    await page.keyboard.press("Shift")
    await assert_still_on(page, url)
    assert await page.locator("#q-page").input_value() == "Aa"
    await page.keyboard.press("Shift")  # the third Shift on its own since "a"
    await page.wait_for_url(f"https://{EXIT_HOST}/")


async def test_a_pause_longer_than_five_seconds_starts_the_count_again(page: Page, portal: Portal) -> None:
    await page.clock.install()
    url = portal.url("/nl/")
    await page.goto(url)
    await page.keyboard.press("Shift")
    await page.keyboard.press("Shift")
    await page.clock.fast_forward("00:06")
    await page.keyboard.press("Shift")
    await assert_still_on(page, url)
    await page.clock.fast_forward("00:04")  # within 5 s of the last press: counts
    await page.keyboard.press("Shift")
    await assert_still_on(page, url)
    await page.keyboard.press("Shift")
    await page.wait_for_url(f"https://{EXIT_HOST}/")


async def test_quick_exit_works_without_javascript(browser: Browser, portal: Portal) -> None:
    context = await guarded(browser, portal, java_script_enabled=False)
    await serve_exit_target(context)
    try:
        tab = await context.new_page()
        await tab.goto(portal.url("/nl/artikel/zo-word-je-geronseld"))
        requests: list[dict[str, str]] = []
        tab.on("request", lambda r: requests.append(r.headers) if EXIT_HOST in r.url else None)
        await tab.get_by_role("link", name="Snel weg").click()
        await tab.wait_for_url(f"https://{EXIT_HOST}/")
        assert await tab.title() == "Weer"
        assert requests and all("referer" not in {k.lower() for k in h} for h in requests)
    finally:
        await context.close()


async def test_the_self_check_works_without_javascript_and_with_it(browser: Browser, portal: Portal) -> None:
    context = await guarded(browser, portal, java_script_enabled=False)
    try:
        tab = await context.new_page()
        await tab.goto(portal.url("/nl/zelftest"))
        assert await tab.locator("[data-result]:visible").count() == 3
        assert await tab.get_by_role("button", name="Wat betekent dit?").count() == 0
    finally:
        await context.close()
    context = await guarded(browser, portal)
    try:
        tab = await context.new_page()
        await tab.goto(portal.url("/nl/zelftest"))
        await tab.wait_for_load_state("networkidle")
        sent: list[str] = []
        tab.on("request", lambda r: sent.append(r.url))
        show = tab.get_by_role("button", name="Wat betekent dit?")
        await show.click()
        assert await tab.locator("[data-result]:visible").get_attribute("data-result") == "none"
        await tab.get_by_label("Ik breng pakketjes, drugs of geld weg voor iemand anders.").check()
        await show.click()
        assert await tab.locator("[data-result]:visible").get_attribute("data-result") == "some"
        await tab.get_by_label("Ik ben bang voor wat er gebeurt als ik stop.").check()
        await show.click()
        assert await tab.locator("[data-result]:visible").get_attribute("data-result") == "many"
        assert await tab.evaluate("document.activeElement.id") == "results-heading"
        await tab.get_by_role("button", name="Wis mijn antwoorden").click()
        assert await tab.locator("input[type=checkbox]:checked").count() == 0
        assert sent == [], "the self-check must send nothing"
        assert await tab.evaluate("localStorage.length + sessionStorage.length") == 0
    finally:
        await context.close()


async def test_no_request_leaves_the_portal_and_no_cookie_is_set(browser: Browser, portal: Portal) -> None:
    portal.foreign.clear()
    context = await guarded(browser, portal)
    try:
        tab = await context.new_page()
        for path in PAGE_TYPES.values():
            await visit(tab, portal, path)
            await tab.wait_for_load_state("networkidle")
            assert await tab.evaluate("document.cookie") == ""
        await tab.goto(portal.url("/nl/"))
        await tab.get_by_label("Zoek op de website").fill("geldezel")
        await tab.get_by_role("button", name="Zoek").click()
        await tab.wait_for_url("**/nl/zoeken")
        assert await context.cookies() == []
        assert await tab.evaluate("localStorage.length + sessionStorage.length") == 0
    finally:
        await context.close()
    assert portal.foreign == []


@pytest.mark.parametrize("javascript", [True, False])
async def test_a_search_stays_out_of_the_address_bar_and_the_history(
    browser: Browser, portal: Portal, javascript: bool
) -> None:
    """Issue 23, L2: the words someone searched for are in no address and no history entry (a
    phone an exploiter checks), with or without JavaScript; the search still works, sets no
    cookie, and Back leaves the results behind."""
    context = await guarded(browser, portal, java_script_enabled=javascript)
    try:
        tab = await context.new_page()
        await tab.goto(portal.url("/nl/"))
        await tab.get_by_label("Zoek op de website").fill("geldezel")
        async with tab.expect_navigation():
            await tab.get_by_role("button", name="Zoek").click()
        assert tab.url == portal.url("/nl/zoeken")
        await expect_results(tab, "geldezel")
        # A second search from the results page itself.
        await tab.locator("#q-page").fill("uitgebuit")
        async with tab.expect_navigation():
            await tab.locator("#q-page").press("Enter")
        assert tab.url == portal.url("/nl/zoeken")
        await expect_results(tab, "uitgebuit")
        cdp = await context.new_cdp_session(tab)
        history = await cdp.send("Page.getNavigationHistory")
        urls = [entry["url"] for entry in history["entries"]]
        assert urls == ["about:blank", portal.url("/nl/"), portal.url("/nl/zoeken"), portal.url("/nl/zoeken")], urls
        assert not any("geldezel" in e["title"] or "uitgebuit" in e["title"] for e in history["entries"])
        assert await context.cookies() == []
    finally:
        await context.close()


async def expect_results(tab: Page, query: str) -> None:
    heading = tab.get_by_role("status")
    assert query in (await heading.inner_text()), await heading.inner_text()
    assert await tab.locator(".results-list li").count() > 0


async def test_every_page_type_fits_a_320_pixel_screen(browser: Browser, portal: Portal) -> None:
    context = await guarded(browser, portal, viewport={"width": 320, "height": 640})
    try:
        tab = await context.new_page()
        for path in [*PAGE_TYPES.values(), "/nl/artikel/signaleren-en-doorverwijzen", "/nl/privacy"]:
            await visit(tab, portal, path)
            width = await tab.evaluate("document.documentElement.scrollWidth")
            assert width <= 320, (path, width)
            box = await tab.locator("[data-quick-exit]").bounding_box()
            assert box and box["y"] < 60 and box["x"] + box["width"] <= 320, path
    finally:
        await context.close()


# --- the first screen on a phone (issue 15) ---------------------------------------------------

PHONE = {"width": 360, "height": 640}


async def in_first_screen(page: Page, selector: str) -> bool:
    """Visible and wholly inside the viewport with the page not scrolled."""
    box = await page.locator(selector).first.bounding_box()
    height = await page.evaluate("innerHeight")
    scrolled = await page.evaluate("scrollY")
    return box is not None and scrolled == 0 and box["y"] >= 0 and box["y"] + box["height"] <= height


async def test_on_a_phone_the_home_first_screen_shows_the_headline_and_the_chat_button(
    browser: Browser, portal: Portal
) -> None:
    context = await guarded(browser, portal, viewport=PHONE, has_touch=True, is_mobile=True)
    try:
        tab = await context.new_page()
        await tab.goto(portal.url("/nl/"))
        assert await in_first_screen(tab, "main h1"), "the headline is in the first screen"
        assert await in_first_screen(tab, "main a.button[data-chat]"), "the chat button is in the first screen"
        # The menu is one button; its links wait behind it.
        assert await in_first_screen(tab, "summary")
        assert not await tab.get_by_role("link", name="Onderwerpen").is_visible()
        assert await tab.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    finally:
        await context.close()


async def test_on_a_phone_the_menu_opens_by_keyboard_without_javascript(browser: Browser, portal: Portal) -> None:
    context = await guarded(browser, portal, viewport=PHONE, java_script_enabled=False)
    try:
        tab = await context.new_page()
        await tab.goto(portal.url("/nl/"))
        for _ in range(8):
            await tab.keyboard.press("Tab")
            if await tab.evaluate("document.activeElement.tagName") == "SUMMARY":
                break
        assert await tab.evaluate("document.activeElement.textContent.trim()") == "Menu"
        await tab.keyboard.press("Enter")
        topics = tab.get_by_role("navigation", name="Hoofdmenu").get_by_role("link", name="Onderwerpen")
        assert await topics.is_visible()
        await tab.keyboard.press("Tab")  # into the opened menu: its first link
        assert await tab.evaluate("document.activeElement.closest('nav') !== null")
        await topics.focus()
        await tab.keyboard.press("Enter")
        await tab.wait_for_url(portal.url("/nl/onderwerpen"))
        assert await tab.get_by_role("heading", level=1).is_visible()
    finally:
        await context.close()


async def test_on_a_wide_screen_the_menu_is_shown_without_a_button(browser: Browser, portal: Portal) -> None:
    context = await guarded(browser, portal, viewport={"width": 1200, "height": 800})
    try:
        tab = await context.new_page()
        await tab.goto(portal.url("/nl/"))
        assert await tab.get_by_role("link", name="Onderwerpen").first.is_visible()
        assert await tab.get_by_role("searchbox").first.is_visible()
        assert not await tab.locator("summary").is_visible()
    finally:
        await context.close()


@pytest.mark.parametrize("menu", ["closed", "open"])
async def test_on_a_phone_the_home_page_passes_axe_with_the_menu(browser: Browser, portal: Portal, menu: str) -> None:
    context = await guarded(browser, portal, viewport=PHONE, bypass_csp=True)
    try:
        tab = await context.new_page()
        await tab.goto(portal.url("/nl/"))
        if menu == "open":
            await tab.locator("summary").click()
        await tab.add_script_tag(path=str(AXE))
        result = await tab.evaluate(
            """() => axe.run(document, {runOnly: {type: 'tag',
                 values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})"""
        )
        serious = [
            (v["id"], [n["target"] for n in v["nodes"]][:3])
            for v in result["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        assert not serious, serious
    finally:
        await context.close()
