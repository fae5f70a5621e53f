"""How long a visitor waits to see the earlier conversation when they come back with a return code.

Usage: .venv/bin/python -m bench.return_code [--runs N]   (build the widget first: make -C widget build)

Starts a test Synapse (SQLite, MSC3814 on), the bots with ``return_code.enabled`` and the portal
on free loopback ports. Each run: a visitor in Debian's Chromium starts a chat, writes a
message, makes a code ("Wil je later verder praten?") and ends the chat; then a fresh browser
profile (cold cache) opens the chat page, types the code and the word, and the clock runs from
pressing Start to the earlier message being visible: derivation (two PBKDF2-SHA512 runs of 500k), the
return API, the login, crypto, the first sync, the identity from 4S, rehydration and the backup
restore. N is at most 3: the code and return API allow 10 calls per client and hour, and a run
makes three (code, return, the rotated code).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import time

from playwright.async_api import Browser, BrowserContext, Page

from bench.stack import widget_stack
from tests.support.browser import chromium

WORD = "zonnebloem"


async def fresh(browser: Browser) -> BrowserContext:
    return await browser.new_context(viewport={"width": 400, "height": 760}, locale="nl-NL")


async def leave_with_code(browser: Browser, portal: str, message: str) -> str:
    context = await fresh(browser)
    page = await context.new_page()
    await page.goto(f"{portal}/chat/?lang=nl")
    await page.locator("button.kp-primary", has_text="Start").click()
    await page.locator(".kp-msg--bot").first.wait_for(timeout=60_000)
    box = page.locator("#kp-input")
    await box.fill(message)
    await box.press("Enter")
    await page.locator(".kp-msg--me .kp-status", has_text="Verstuurd").first.wait_for(timeout=30_000)
    await page.get_by_role("button", name="Wil je later verder praten?").click()
    await page.get_by_role("button", name="Ja, maak een code").click()
    await page.get_by_label("Kies een geheim woord").fill(WORD)
    await page.get_by_role("button", name="Maak mijn code").click()
    shown = page.locator("#kp-later-code")
    await page.locator("#kp-later-code", has_text=re.compile(r"^[a-z]+(-[a-z]+){3}$")).wait_for(timeout=60_000)
    code = await shown.inner_text()
    await page.get_by_role("button", name="Klaar").click()
    await page.get_by_role("button", name="Gesprek stoppen").click()
    await page.get_by_role("button", name="Ja, stoppen").click()
    await page.locator("h1", has_text="Het gesprek is gestopt").wait_for(timeout=60_000)
    await context.close()
    return code


async def come_back(browser: Browser, portal: str, code: str, message: str) -> float:
    """Seconds from pressing Start with code and word to the earlier message on screen (cold)."""
    context = await fresh(browser)
    page: Page = await context.new_page()
    await page.goto(f"{portal}/chat/?lang=nl")
    await page.get_by_role("button", name="Ik heb een code").click()
    await page.get_by_label("Jouw code").fill(code)
    await page.get_by_label("Jouw geheime woord").fill(WORD)
    t0 = time.perf_counter()
    await page.locator("button.kp-primary", has_text="Start").click()
    await page.locator(".kp-msg--me", has_text=message).wait_for(state="visible", timeout=120_000)
    elapsed = time.perf_counter() - t0
    await context.close()
    return elapsed


async def bench(n: int) -> None:
    async with widget_stack("return", {"return_code": {"enabled": True}}) as synapse:
        portal = synapse.config.portal.public_url
        times: list[float] = []
        async with chromium() as browser:
            for i in range(n):
                message = f"Dit schreef ik de vorige keer ({i})."
                code = await leave_with_code(browser, portal, message)
                times.append(await come_back(browser, portal, code, message))
    print(f"return code → earlier conversation shown (Chromium, cold), {n} runs:")
    print(f"  p50 {statistics.median(times):.2f} s, min {min(times):.2f} s, max {max(times):.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, choices=(1, 2, 3))
    asyncio.run(bench(parser.parse_args().runs))


if __name__ == "__main__":
    main()
