"""First contact: the launcher click → the first triage question's buttons, beside the floor.

Usage: .venv/bin/python -m bench.first_contact [--runs 5] [--throttle]   (build the widget first: make -C widget build)

Starts a test Synapse (SQLite), the bots and the portal on free loopback ports, and a partner
page on 127.0.0.2 that embeds the widget with one <script> tag (as bench/widget.py does). Each
run is a fresh Chromium context (cold cache, empty profile): click the launcher, press "Start"
at the first animation frame that shows it (a script in the chat frame: see PRESS_START), and
stop the clock when the first question's buttons are on the page. Every
session is a real one (account, room, cross-signing, encrypted start event, the bot's greeting
and first question decrypted in the browser).

Reported as p50 (and min/max) of the runs, with where the time goes (the widget's performance
marks: frame and start screen, session API, the widget's crypto/sync/join until the start event
is sent, and the bot's answer until the buttons show), beside the floor: the bare Synapse calls
a session needs (register + createRoom with the invite + join + send, plain HTTP, no crypto),
measured in the same run.

The clock stops at the widget's own mark (``kp-options``, set when the first question's buttons
are put on the page), read against the launcher click's time on the host page: both pages'
``performance.timeOrigin`` are wall-clock times. Playwright's own wait for the buttons polls at
up to 500 ms intervals, so the time it sees is printed too, but says more about its polling.

``--throttle``: every page of the run (host page and chat frame) goes through Chromium's network
emulation (DevTools ``Network.emulateNetworkConditions``): 5 Mbit/s down, 20 ms latency.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import time

import aiohttp
from playwright.async_api import Browser, Page

from bench.common import ms, pct
from bench.session_start import bare_run
from bench.stack import partner_page, widget_stack
from bots.homeserver.admin import SynapseAdmin
from tests.support.browser import chromium
from tests.support.synapse import SynapseProcess

BUTTONS = ".kp-msg--bot .kp-options .kp-option"
# The widget's performance marks (ms since the frame's navigation started), read in the frame.
READ_MARKS = """() => {
  const t = (name) => performance.getEntriesByName(name)[0]?.startTime ?? NaN;
  return {start: t("kp-start"), api: t("kp-api"), sent: t("kp-start-sent"), options: t("kp-options"),
          origin: performance.timeOrigin};
}"""
# In the chat frame: press Start at the first animation frame that shows it, as a visitor who
# knows where to press. (Playwright's own click takes several DevTools round trips to check and
# press the button, each waiting on a busy machine, and would mostly measure itself.)
PRESS_START = """if (location.pathname.startsWith("/chat/")) {
  const look = () => {
    const start = document.querySelector("section.kp-start button.kp-primary");
    if (start?.checkVisibility()) start.click();
    else requestAnimationFrame(look);
  };
  requestAnimationFrame(look);
}"""
# The launcher click on the host page, in epoch milliseconds (its listener runs before embed.js's).
CLICK_CLOCK = """() => { window.__kpClick = null;
  document.addEventListener("click", () => { window.__kpClick ??= performance.timeOrigin + performance.now(); },
                            {capture: true}); }"""
# 5 Mbit/s down (bytes per second), upload left alone, 20 ms latency.
THROTTLE = {"offline": False, "latency": 20, "downloadThroughput": 5_000_000 / 8, "uploadThroughput": -1}
PHASES = ("frame", "api", "widget", "bot")


async def throttle(page: Page) -> None:
    """Chromium's network emulation for the page (and its in-process chat frame: SHARED_PROCESS)."""
    cdp = await page.context.new_cdp_session(page)
    await cdp.send("Network.enable")
    await cdp.send("Network.emulateNetworkConditions", THROTTLE)


# Throttled, the chat frame runs in the host page's process (site isolation off): DevTools'
# network emulation is per process target, and the frame's own target exists only once its
# first requests are under way, too late to throttle them.
SHARED_PROCESS = ("--disable-site-isolation-trials", "--disable-features=IsolateOrigins,site-per-process")


async def one_run(browser: Browser, host: str, throttled: bool = False) -> tuple[float, float, dict[str, float]]:
    context = await browser.new_context(viewport={"width": 400, "height": 760})
    try:
        page = await context.new_page()
        if throttled:
            await throttle(page)
        await page.goto(host)
        launcher = page.get_by_role("button", name="Chat anoniem")
        await launcher.wait_for()
        await page.evaluate(CLICK_CLOCK)
        await context.add_init_script(PRESS_START)
        t0 = time.perf_counter()
        await launcher.click()
        frame = page.frame_locator('iframe[title="Keerpunt chat"]')
        await frame.locator(BUTTONS).first.wait_for(timeout=120_000)
        seen = time.perf_counter() - t0
        clicked = await page.evaluate("window.__kpClick")
        chat = next(f for f in page.frames if "/chat/" in f.url)
        marks = await chat.evaluate(READ_MARKS)
        frame_clock = marks["origin"] - clicked  # the chat frame's 0, in ms after the launcher click
        total = (frame_clock + marks["options"]) / 1000
        phases = {
            "frame": (frame_clock + marks["start"]) / 1000,
            "api": (marks["api"] - marks["start"]) / 1000,
            "widget": (marks["sent"] - marks["api"]) / 1000,
            "bot": (marks["options"] - marks["sent"]) / 1000,
        }
        await page.close()  # pagehide ends the session, as when a visitor closes the tab
        return total, seen, phases
    finally:
        await context.close()


async def floor(synapse: SynapseProcess, runs: int) -> list[dict[str, float]]:
    async with aiohttp.ClientSession() as http:
        admin = SynapseAdmin(synapse.url, session=http, shared_secret=synapse.shared_secret)
        creator = await admin.register(f"bare-creator-{secrets.token_hex(4)}", secrets.token_urlsafe(16))
        return [await bare_run(synapse, http, creator.access_token) for _ in range(runs)]


def line(name: str, values: list[float]) -> str:
    return f"  {name:44s} p50 {ms(pct(values, 0.5))}   (min {ms(min(values))}, max {ms(max(values))})"


async def bench(runs: int, throttled: bool) -> None:
    async with partner_page() as host, widget_stack("first", {"portal": {"frame_ancestors": [host.origin]}}) as synapse:
        host.embed(synapse.config.portal.public_url)
        async with chromium(SHARED_PROCESS if throttled else ()) as browser:
            await one_run(browser, host.url)  # warm up the stack (not the browser: every run is a new profile)
            results = [await one_run(browser, host.url, throttled) for _ in range(runs)]
        bare = await floor(synapse, runs)

    where = "5 Mbit/s down, 20 ms latency (DevTools emulation)" if throttled else "localhost"
    print(f"first contact, {runs} runs, cold cache (a new Chromium profile each), {where}")
    print(line("launcher click -> first question's buttons", [total for total, _, _ in results]))
    print(line("  as Playwright's polling saw it", [seen for _, seen, _ in results]))
    names = {
        "frame": "click -> Start pressed (frame, start screen)",
        "api": "Start -> session API answered",
        "widget": "-> start event sent (SDK, crypto, sync, join)",
        "bot": "-> first question's buttons shown",
    }
    for phase in PHASES:
        print(line(names[phase], [p[phase] for _, _, p in results]))
    print(f"the floor: bare Synapse calls, {runs} runs in the same stack (plain HTTP, no crypto)")
    print(line("register + createRoom + join + send", [sum(b.values()) for b in bare]))
    for name in ("register", "createRoom", "join", "send"):
        print(line(f"  {name}", [b[name] for b in bare]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--throttle", action="store_true", help="5 Mbit/s down, 20 ms latency (Chromium's emulation)")
    args = parser.parse_args()
    asyncio.run(bench(args.runs, args.throttle))


if __name__ == "__main__":
    main()
