"""First contact: the launcher click → the first triage question's buttons, beside the floor.

Usage: .venv/bin/python -m bench.first_contact [--runs 5]   (build the widget first: make -C widget build)

Starts a test Synapse (SQLite), the bots and the portal on free loopback ports, and a partner
page on 127.0.0.2 that embeds the widget with one <script> tag (as bench/widget.py does). Each
run is a fresh Chromium context (cold cache, empty profile): click the launcher, press "Start"
as soon as it shows, and stop the clock when the first question's buttons are visible. Every
session is a real one (account, room, cross-signing, encrypted start event, the bot's greeting
and first question decrypted in the browser).

Reported as p50 (and min/max) of the runs, with where the time goes (the widget's performance
marks: frame and start screen, session API, the widget's crypto/sync/join until the start event
is sent, and the bot's answer until the buttons show), beside the floor: the bare Synapse calls
a session needs (register + createRoom with the invite + join + send, plain HTTP, no crypto),
measured in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import time

import aiohttp
from playwright.async_api import Browser

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
  return {start: t("kp-start"), api: t("kp-api"), sent: t("kp-start-sent"), now: performance.now()};
}"""
PHASES = ("frame", "api", "widget", "bot")


async def one_run(browser: Browser, host: str) -> tuple[float, dict[str, float]]:
    context = await browser.new_context(viewport={"width": 400, "height": 760})
    try:
        page = await context.new_page()
        await page.goto(host)
        launcher = page.get_by_role("button", name="Chat anoniem")
        await launcher.wait_for()
        t0 = time.perf_counter()
        await launcher.click()
        frame = page.frame_locator('iframe[title="Keerpunt chat"]')
        await frame.locator("button.kp-primary", has_text="Start").click()
        t_start = time.perf_counter()
        await frame.locator(BUTTONS).first.wait_for(timeout=120_000)
        total = time.perf_counter() - t0
        chat = next(f for f in page.frames if "/chat/" in f.url)
        marks = await chat.evaluate(READ_MARKS)
        phases = {
            "frame": t_start - t0,
            "api": (marks["api"] - marks["start"]) / 1000,
            "widget": (marks["sent"] - marks["api"]) / 1000,
            "bot": (marks["now"] - marks["sent"]) / 1000,
        }
        await page.close()  # pagehide ends the session, as when a visitor closes the tab
        return total, phases
    finally:
        await context.close()


async def floor(synapse: SynapseProcess, runs: int) -> list[dict[str, float]]:
    async with aiohttp.ClientSession() as http:
        admin = SynapseAdmin(synapse.url, session=http, shared_secret=synapse.shared_secret)
        creator = await admin.register(f"bare-creator-{secrets.token_hex(4)}", secrets.token_urlsafe(16))
        return [await bare_run(synapse, http, creator.access_token) for _ in range(runs)]


def line(name: str, values: list[float]) -> str:
    return f"  {name:44s} p50 {ms(pct(values, 0.5))}   (min {ms(min(values))}, max {ms(max(values))})"


async def bench(runs: int) -> None:
    async with partner_page() as host, widget_stack("first", {"portal": {"frame_ancestors": [host.origin]}}) as synapse:
        host.embed(synapse.config.portal.public_url)
        async with chromium() as browser:
            await one_run(browser, host.url)  # warm up the stack (not the browser: every run is a new profile)
            results = [await one_run(browser, host.url) for _ in range(runs)]
        bare = await floor(synapse, runs)

    totals = [total for total, _ in results]
    print(f"first contact, {runs} runs, cold cache (a new Chromium profile each), localhost")
    print(line("launcher click -> first question's buttons", totals))
    names = {
        "frame": "click -> Start pressed (frame, start screen)",
        "api": "Start -> session API answered",
        "widget": "-> start event sent (SDK, crypto, sync, join)",
        "bot": "-> first question's buttons shown",
    }
    for phase in PHASES:
        print(line(names[phase], [p[phase] for _, p in results]))
    print(f"the floor: bare Synapse calls, {runs} runs in the same stack (plain HTTP, no crypto)")
    print(line("register + createRoom + join + send", [sum(b.values()) for b in bare]))
    for name in ("register", "createRoom", "join", "send"):
        print(line(f"  {name}", [b[name] for b in bare]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(bench(args.runs))


if __name__ == "__main__":
    main()
