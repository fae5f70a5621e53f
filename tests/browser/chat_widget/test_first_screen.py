"""The first screen on a small phone (issue 29), in Debian's Chromium with touch at 360x640 and
320x568, in every language the widget has: the start screen's essentials (who, anonymous, how to
leave fast) and its Start button are in view without scrolling and nothing covers the button;
the quick exit comes first in the tab order; the page offers one language switch and one quick
exit; axe is clean. For the four ways in: the home page's launcher (the full-screen overlay),
/<lang>/chat (inline in the portal's page), and an article's "talk about this"; in all seven
languages (issue 26), Arabic right to left.

The start screen needs no Synapse: one portal (which serves the built widget) per module.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from playwright.async_api import Browser, FloatRect, Frame, Page, ViewportSize, expect

from keerpunt.site.content import LANGUAGES
from keerpunt.site.routes import url
from portal.app import create_app
from portal.i18n import load_translations
from portal.site import Site
from tests.support.browser import AXE, require_build
from tests.support.synapse import free_port, make_test_config
from tests.support.widget import RUN_AXE

pytestmark = pytest.mark.browser

PHONES = {"360x640": ViewportSize(width=360, height=640), "320x568": ViewportSize(width=320, height=568)}
LOCALES = Path(__file__).resolve().parents[3] / "widget" / "src" / "app" / "locales"
WIDGET = {lang: json.loads((LOCALES / f"{lang}.json").read_text("utf-8")) for lang in LANGUAGES}
PORTAL = load_translations()
LAUNCHER = {lang: WIDGET[lang]["launcher_label"] for lang in LANGUAGES}
TALK = {lang: PORTAL[lang]("chat_button") for lang in LANGUAGES}
START = "section[aria-labelledby=kp-start-h]"  # the start screen
QUICK_EXIT = re.compile("^(" + "|".join(re.escape(WIDGET[lang]["quick_exit"]) for lang in LANGUAGES) + ")$")


# An article in each language: what criminal exploitation is (translated in all seven).
ARTICLE = {
    "nl": "/nl/artikel/wat-is-criminele-uitbuiting",
    "en": "/en/article/what-is-criminal-exploitation",
    "pl": "/pl/artykul/czym-jest-wyzysk-przestepczy",
    "ro": "/ro/articol/ce-este-exploatarea-infractionala",
    "bg": "/bg/statiya/kakvo-e-kriminalna-eksploatatsiya",
    "uk": "/uk/stattia/shcho-take-kryminalna-ekspluatatsiia",
    "ar": "/ar/maqal/ma-huwa-al-istighlal-al-ijrami",
}


@pytest.fixture(scope="module")
async def portal_url(tmp_path_factory: pytest.TempPathFactory, site: Site) -> AsyncIterator[str]:
    require_build()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    config = make_test_config(tmp_path_factory.mktemp("first-screen"), {"portal": {"port": port, "public_url": url}})
    runner = web.AppRunner(create_app(config, site), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield url
    await runner.cleanup()


async def phone_page(browser: Browser, size: str, language: str) -> Page:
    # bypass_csp: axe is injected as a script, which the pages' CSP rightly refuses.
    context = await browser.new_context(
        viewport=PHONES[size], has_touch=True, is_mobile=True, locale=f"{language}-NL", bypass_csp=True
    )
    return await context.new_page()


async def open_chat(page: Page, base: str, way: str, language: str) -> Frame:
    """Open the chat the way a visitor would; the chat's frame, its start screen shown."""
    if way == "launcher":
        await page.goto(f"{base}/{language}/")
        await page.get_by_role("button", name=LAUNCHER[language]).click()
    elif way == "chat page":
        await page.goto(base + url("chat", language))
    else:
        await page.goto(base + ARTICLE[language])
        await page.locator(".chat-box").get_by_role("link", name=TALK[language]).click()
        await page.wait_for_url("**" + url("chat", language))
    chat = page.frame_locator('iframe[src*="/chat/"]')
    await expect(chat.locator("button.kp-primary").first).to_be_visible()
    frame = next(f for f in page.frames if "/chat/" in f.url)
    await frame.evaluate("document.fonts.ready")
    return frame


# What lies on top of the start button: the element at its centre and at each corner (6 px in,
# inside its rounded corners), in the chat's frame and in the page around it.
INSET = 6
UNDER_BUTTON = """(inset) => {
  const button = document.querySelector("section[aria-labelledby=kp-start-h] button.kp-primary");
  const r = button.getBoundingClientRect();
  const [left, top, right, bottom] = [r.left + inset, r.top + inset, r.right - inset, r.bottom - inset];
  const centre = [r.left + r.width / 2, r.top + r.height / 2];
  const points = [centre, [left, top], [right, top], [left, bottom], [right, bottom]];
  return points.map(([x, y]) => {
    const hit = document.elementFromPoint(x, y);
    return hit !== null && (hit === button || button.contains(hit));
  });
}"""

ON_TOP_OF_FRAME = """([points]) => {
  const frame = document.querySelector('iframe[src*="/chat/"]');
  return points.map(([x, y]) => document.elementFromPoint(x, y) === frame);
}"""

# The sequential focus order, as the browser builds it when no tabindex is positive.
TAB_ORDER = """() => {
  const all = [...document.querySelectorAll("a[href], button, input, select, textarea, iframe, [tabindex]")];
  const positive = all.filter((e) => e.tabIndex > 0).length;
  const stops = all.filter((e) => e.tabIndex >= 0 && !e.disabled && e.checkVisibility({visibilityProperty: true}));
  const name = (e) => (e.textContent || e.getAttribute("aria-label") || e.tagName).trim();
  return {positive, first: stops.slice(0, 3).map(name)};
}"""

SCROLLED = "() => [scrollY, ...[...document.querySelectorAll('.kp-screen')].map((s) => s.scrollTop)]"
WIDER = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


async def in_view(page: Page, frame: Frame, selector: str) -> list[FloatRect]:
    """The boxes (page coordinates) of the visible matches that are not wholly on the screen."""
    size = page.viewport_size
    assert size is not None
    out = []
    for element in await frame.locator(selector).all():
        if not await element.is_visible():
            continue
        box = await element.bounding_box()
        assert box is not None, selector
        inside = box["x"] >= 0 and box["y"] >= 0 and box["x"] + box["width"] <= size["width"] + 0.5
        if not (inside and box["y"] + box["height"] <= size["height"] + 0.5):
            out.append(box)
    return out


async def language_switches(page: Page, frame: Frame) -> list[str]:
    """The language switches the visitor can see: the page's row of languages (unless the chat's
    overlay covers it) and the chat's own language choice."""
    found = []
    nav = page.locator("nav.language-switch")
    if await nav.count() and await nav.is_visible():
        box = await nav.bounding_box()
        assert box is not None
        centre = [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2]
        if await page.evaluate(ON_TOP_OF_FRAME, [[centre]]) != [True]:
            found.append("page")
    choice = frame.locator("select.kp-lang")
    if await choice.count() and await choice.is_visible():
        found.append("chat")
    return found


async def offered(page: Page, frame: Frame, name: re.Pattern[str]) -> list[str]:
    """The links and buttons named `name` that the visitor can see and touch, on the page and in the chat."""
    found = []
    for where in (page.main_frame, frame):
        links, buttons = where.get_by_role("link", name=name), where.get_by_role("button", name=name)
        for element in [*await links.all(), *await buttons.all()]:
            if not await element.is_visible():
                continue
            box = await element.bounding_box()
            assert box is not None
            centre = [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2]
            # On the page around the chat, something the chat's overlay covers is not offered.
            if where is page.main_frame and await page.evaluate(ON_TOP_OF_FRAME, [[centre]]) == [True]:
                continue
            found.append(f"{'chat' if where is frame else 'page'}: {await element.inner_text()}".strip())
    return found


async def axe_clean(where: Page | Frame, screen: str) -> None:
    if not await where.evaluate("typeof axe !== 'undefined'"):
        await where.add_script_tag(path=str(AXE))
    assert await where.evaluate(RUN_AXE) == [], screen


async def assert_start_in_view(page: Page, frame: Frame, screen: str) -> None:
    assert await page.evaluate(SCROLLED) == [0] and set(await frame.evaluate(SCROLLED)) == {0}, f"{screen}: scrolled"
    # Nothing sticks out sideways (the page's header neither: "Menu" is a way out of the chat too).
    assert [await page.evaluate(WIDER), await frame.evaluate(WIDER)] == [0, 0], f"{screen}: wider than the screen"
    # The essentials and Start wholly on the screen, in the order they are read.
    essentials = ", ".join(f"{START} {part}" for part in ("h1", ".kp-facts li", "button.kp-primary"))
    assert await in_view(page, frame, essentials) == [], f"{screen}: not all in the first screen"
    # Nothing on top of Start: not in the chat, and nothing of the page on top of the chat.
    assert await frame.evaluate(UNDER_BUTTON, INSET) == [True] * 5, f"{screen}: something covers Start"
    box = await frame.locator(f"{START} button.kp-primary").bounding_box()
    assert box is not None
    x, y, w, h = box["x"], box["y"], box["width"], box["height"]
    i = INSET
    points = [[x + w / 2, y + h / 2], [x + i, y + i], [x + w - i, y + i], [x + i, y + h - i], [x + w - i, y + h - i]]
    assert await page.evaluate(ON_TOP_OF_FRAME, [points]) == [True] * 5, f"{screen}: the page covers Start"


@pytest.mark.parametrize("size", PHONES)
@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("way", ["launcher", "chat page", "article"])
async def test_on_a_small_phone_start_is_in_the_first_screen_under_one_header(
    browser: Browser, portal_url: str, way: str, language: str, size: str
) -> None:
    page = await phone_page(browser, size, language)
    try:
        screen = f"{way} ({language}, {size})"
        frame = await open_chat(page, portal_url, way, language)
        direction = "rtl" if language == "ar" else "ltr"
        assert await frame.evaluate("[document.documentElement.lang, document.documentElement.dir]") == [
            language,
            direction,
        ], screen
        assert await frame.locator(f"{START} button.kp-primary").inner_text() == WIDGET[language]["start_button"]
        await assert_start_in_view(page, frame, screen)
        # On a touch screen the start screen speaks of tapping, not of the Shift key.
        assert "Shift" not in await frame.locator(START).inner_text()
        # One quick exit and one language switch on the page: the overlay's own, or the page's.
        exits, switches = await offered(page, frame, QUICK_EXIT), await language_switches(page, frame)
        assert len(exits) == 1 and len(switches) == 1, f"{screen}: {exits} {switches}"
        assert exits[0].startswith("chat" if way == "launcher" else "page"), f"{screen}: {exits}"
        # The quick exit is the first Tab stop of the page and of the chat's overlay.
        order = await (frame if way == "launcher" else page).evaluate(TAB_ORDER)
        assert order["positive"] == 0 and QUICK_EXIT.match(order["first"][0]), f"{screen}: {order}"
        if way != "launcher":
            await page.keyboard.press("Tab")
            assert QUICK_EXIT.match(await page.evaluate("document.activeElement.textContent.trim()"))
        await axe_clean(frame, f"{screen}: the chat")
        await axe_clean(page, f"{screen}: the page around it")
    finally:
        await page.context.close()


# Every text of the start screen a third longer, as Polish, Romanian or Bulgarian often are,
# and the page right to left, as Arabic is (issue 26).
LONGER_AND_RTL = """() => {
  document.documentElement.dir = "rtl";
  for (const node of document.querySelectorAll("section[aria-labelledby=kp-start-h] [data-t]")) {
    const text = node.textContent;
    node.textContent = text + " " + text.slice(0, Math.ceil(text.length * 0.3));
  }
}"""

MIRRORED = """() => {
  const facts = getComputedStyle(document.querySelector(".kp-facts"));
  return {start: facts.paddingRight, end: facts.paddingLeft, align: getComputedStyle(document.body).direction};
}"""


@pytest.mark.parametrize("way", ["launcher", "chat page"])
async def test_start_stays_in_the_first_screen_with_longer_texts_right_to_left(
    browser: Browser, portal_url: str, way: str
) -> None:
    page = await phone_page(browser, "320x568", "nl")
    try:
        frame = await open_chat(page, portal_url, way, "nl")
        await frame.evaluate(LONGER_AND_RTL)
        await assert_start_in_view(page, frame, f"{way}, 30% longer, rtl")
        mirrored = await frame.evaluate(MIRRORED)
        assert mirrored["align"] == "rtl" and mirrored["end"] == "0px" and mirrored["start"] != "0px", mirrored
    finally:
        await page.context.close()
