"""What the chat widget costs a visitor: bytes and time, in Debian's Chromium against the real stack.

Usage: .venv/bin/python -m bench.widget [--runs N]   (build the widget first: make -C widget build)

Starts a test Synapse (SQLite), the bots and the portal on free loopback ports, and a partner
page on 127.0.0.2 that embeds the widget with one <script> tag. Measures:

- bytes from the Keerpunt origin before the first click (the embed script, compressed);
- compressed bytes from the Keerpunt origin and the homeserver from the click until the
  bot's greeting is visible;
- time from pressing Start to the greeting being visible on the full-page chat (/chat/):
  cold cache (fresh browser profile), warm cache (same profile, a new session), and with the
  network throttled to 5 Mbit/s (Chromium's Network.emulateNetworkConditions, 20 ms latency);
- embedded: launcher click to greeting, Start pressed as soon as it shows (cold cache).

Byte counts are encoded body sizes as Chromium reports them (after compression, before
decoding). Every session is a real one (account, room, cross-signing, encrypted start event).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

from playwright.async_api import Browser, BrowserContext, Page, Request

from bench.stack import partner_page, widget_stack
from tests.support.browser import chromium

THROTTLE = {"offline": False, "latency": 20, "downloadThroughput": 5_000_000 / 8, "uploadThroughput": 5_000_000 / 8}


class Bytes:
    """Encoded (compressed) body bytes per origin, from Chromium's own accounting."""

    def __init__(self) -> None:
        self.pending: list[Awaitable[Any]] = []
        self.items: list[tuple[str, int]] = []

    def watch(self, context: BrowserContext) -> None:
        context.on("requestfinished", self._finished)

    def _finished(self, request: Request) -> None:
        async def size() -> None:
            sizes = await request.sizes()
            self.items.append((request.url, int(sizes["responseBodySize"])))

        self.pending.append(asyncio.ensure_future(size()))

    async def settle(self) -> None:
        await asyncio.gather(*self.pending, return_exceptions=True)
        self.pending.clear()

    async def take(self, *prefixes: str) -> tuple[int, list[tuple[str, int]]]:
        await self.settle()
        mine = [(u, n) for u, n in self.items if u.startswith(prefixes)]
        self.items.clear()
        return sum(n for _, n in mine), mine


PHASES: dict[str, list[float]] = {"api": [], "widget": [], "bot": []}
# The widget's performance marks: Start pressed, session API answered, start event sent.
READ_MARKS = """() => {
  const t = (name) => performance.getEntriesByName(name)[0]?.startTime ?? NaN;
  return [t("kp-start"), t("kp-api"), t("kp-start-sent"), performance.now()];
}"""


async def start_chat(page: Page) -> float:
    """Press Start on the (already shown) start screen; seconds until the greeting shows."""
    t0 = time.perf_counter()
    await page.locator("button.kp-primary", has_text="Start").click()
    await page.locator(".kp-msg--bot").first.wait_for(timeout=120_000)
    seconds = time.perf_counter() - t0
    start, api, sent, now = await page.evaluate(READ_MARKS)
    PHASES["api"].append((api - start) / 1000)
    PHASES["widget"].append((sent - api) / 1000)
    PHASES["bot"].append((now - sent) / 1000)
    return seconds


async def full_page(context: BrowserContext, portal: str, throttle: bool = False) -> float:
    page = await context.new_page()
    if throttle:
        cdp = await context.new_cdp_session(page)
        await cdp.send("Network.enable")
        await cdp.send("Network.emulateNetworkConditions", THROTTLE)
    await page.goto(f"{portal}/chat/")
    await page.locator("button.kp-primary", has_text="Start").wait_for()
    seconds = await start_chat(page)
    await page.close()  # pagehide ends the session, as when a visitor closes the tab
    return seconds


async def fresh(browser: Browser) -> BrowserContext:
    return await browser.new_context(viewport={"width": 400, "height": 760})


async def runs(n: int, one: Callable[[], Awaitable[float]]) -> list[float]:
    return [await one() for _ in range(n)]


def summary(name: str, values: list[float]) -> str:
    return f"  {name:34s} median {statistics.median(values):5.2f} s  (min {min(values):.2f}, max {max(values):.2f})"


async def bench(n: int) -> None:
    async with (
        partner_page() as host_page,
        widget_stack("widget", {"portal": {"frame_ancestors": [host_page.origin]}}) as synapse,
    ):
        config = synapse.config
        portal = config.portal.public_url
        homeserver = config.homeserver.public_url
        host_page.embed(portal)
        host = host_page.url

        async with chromium() as browser:
            # Bytes: before the first click, and from the click to the greeting (cold cache).
            before: list[int] = []
            after: list[int] = []
            embedded: list[float] = []
            for _ in range(n):
                context = await fresh(browser)
                counter = Bytes()
                counter.watch(context)
                page = await context.new_page()
                await page.goto(host)
                await page.get_by_role("button", name="Chat anoniem").wait_for()
                await page.wait_for_load_state("networkidle")
                total, _ = await counter.take(portal)
                before.append(total)
                t0 = time.perf_counter()
                await page.get_by_role("button", name="Chat anoniem").click()
                frame = page.frame_locator('iframe[title="Keerpunt chat"]')
                await frame.locator("button.kp-primary", has_text="Start").click()
                await frame.locator(".kp-msg--bot").first.wait_for(timeout=120_000)
                embedded.append(time.perf_counter() - t0)
                await page.wait_for_timeout(500)
                total, items = await counter.take(portal, homeserver)
                after.append(total)
                await context.close()
            largest = sorted(items, key=lambda i: -i[1])[:4]

            for values in PHASES.values():
                values.clear()
            cold = await runs(n, lambda: _in_fresh(browser, lambda c: full_page(c, portal)))
            phases = {name: list(values) for name, values in PHASES.items()}
            context = await fresh(browser)
            await full_page(context, portal)  # fill the cache
            warm = await runs(n, lambda: full_page(context, portal))
            await context.close()
            throttled_cold = await runs(n, lambda: _in_fresh(browser, lambda c: full_page(c, portal, throttle=True)))
            context = await fresh(browser)
            await full_page(context, portal)
            throttled_warm = await runs(n, lambda: full_page(context, portal, throttle=True))
            await context.close()

        print(f"chat widget, {n} runs each")
        print(f"  bytes before the first click (Keerpunt origin, compressed): {statistics.median(before):.0f} B")
        print(
            "  bytes from the click to the greeting (Keerpunt + homeserver, compressed): "
            f"{statistics.median(after) / 1024:.0f} KiB"
        )
        for url, size in largest:
            print(f"    {size / 1024:8.0f} KiB  {url.rsplit('/', 1)[-1][:60]}")
        print("time to the greeting:")
        print(summary("embedded, launcher click, cold", embedded))
        print(summary("full page, Start click, cold", cold))
        print(summary("full page, Start click, warm", warm))
        print(summary("5 Mbit/s, Start click, cold", throttled_cold))
        print(summary("5 Mbit/s, Start click, warm", throttled_warm))
        print("where the cold full-page time goes:")
        print(summary("session API (account + room)", phases["api"]))
        print(summary("widget (SDK, crypto, sync, join)", phases["widget"]))
        print(summary("start event sent -> greeting shown", phases["bot"]))


async def _in_fresh(browser: Browser, one: Callable[[BrowserContext], Awaitable[float]]) -> float:
    context = await fresh(browser)
    try:
        return await one(context)
    finally:
        await context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(bench(args.runs))


if __name__ == "__main__":
    main()
