"""Where the start screen's "Start" button lands on a small phone (issue 29), per way in.

Usage: .venv/bin/python -m bench.first_screen   (build the widget first: make -C widget build)

Starts the portal alone (it serves the built widget; the start screen needs no Synapse) on a
free loopback port and opens the chat in Debian's Chromium with touch, the way a visitor would:
the home page's launcher (the full-screen overlay), /nl/chat and /en/chat (inline in the page),
and an article's "talk about this". For each, at 360x640 and 320x568, it prints the button's top
and bottom (CSS pixels from the top of the screen) and the room left under it. "+30% rtl" is the
same screen with every start-screen text a third longer and the page right to left, the way
issue 26's languages will be. Before, issue 29 found the button at y≈656 px (launcher) and
y≈716 px (/nl/chat) at 360x640: below the first screen.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from aiohttp import web
from playwright.async_api import Browser, Frame, Page, ViewportSize

from portal.app import create_app
from portal.site import load_site
from tests.support.browser import chromium
from tests.support.synapse import free_port, make_test_config

SIZES = (ViewportSize(width=360, height=640), ViewportSize(width=320, height=568))
WAYS = (("launcher", "nl"), ("launcher", "en"), ("/chat", "nl"), ("/chat", "en"), ("article", "nl"), ("article", "en"))
ARTICLE = {
    "nl": ("/nl/artikel/zo-word-je-geronseld", "Praat met iemand"),
    "en": ("/en/article/how-recruitment-works", "Talk to someone"),
}
LAUNCHER = {"nl": "Chat anoniem", "en": "Chat anonymously"}
BUTTON = "section[aria-labelledby=kp-start-h] button.kp-primary"
LONGER_AND_RTL = """() => {
  document.documentElement.dir = "rtl";
  for (const node of document.querySelectorAll("section[aria-labelledby=kp-start-h] [data-t]")) {
    node.textContent += " " + node.textContent.slice(0, Math.ceil(node.textContent.length * 0.3));
  }
}"""


async def open_chat(page: Page, base: str, way: str, language: str) -> Frame:
    if way == "launcher":
        await page.goto(f"{base}/{language}/")
        await page.get_by_role("button", name=LAUNCHER[language]).click()
    elif way == "/chat":
        await page.goto(f"{base}/{language}/chat")
    else:
        path, talk = ARTICLE[language]
        await page.goto(base + path)
        await page.locator(".chat-box").get_by_role("link", name=talk).click()
    await page.frame_locator('iframe[title="Keerpunt chat"]').locator(BUTTON).wait_for()
    return next(f for f in page.frames if "/chat/" in f.url)


async def measure(browser: Browser, base: str, size: ViewportSize, way: str, language: str, stress: bool) -> str:
    context = await browser.new_context(viewport=size, has_touch=True, is_mobile=True, locale=f"{language}-NL")
    try:
        page = await context.new_page()
        frame = await open_chat(page, base, way, language)
        if stress:
            await frame.evaluate(LONGER_AND_RTL)
        box = await frame.locator(BUTTON).bounding_box()
        assert box is not None
        top, bottom = box["y"], box["y"] + box["height"]
        name = f"{way} {language}" + (" +30% rtl" if stress else "")
        where = f"top {top:5.0f}  bottom {bottom:5.0f}  room under it {size['height'] - bottom:5.0f}"
        return f"{size['width']}x{size['height']}  {name:<22} {where}"
    finally:
        await context.close()


async def bench() -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as data:
        config = make_test_config(Path(data), {"portal": {"port": port, "public_url": base}})
        runner = web.AppRunner(create_app(config, load_site()), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        try:
            async with chromium() as browser:
                for size in SIZES:
                    for way, language in WAYS:
                        print(await measure(browser, base, size, way, language, stress=False), flush=True)
                    for way in ("launcher", "/chat"):
                        print(await measure(browser, base, size, way, "nl", stress=True), flush=True)
        finally:
            await runner.cleanup()


def main() -> None:
    asyncio.run(bench())


if __name__ == "__main__":
    main()
