"""What the proof of work before a start costs a visitor's browser, per level, on a slow phone.

Usage: .venv/bin/python -m bench.challenge [--runs N] [--rates 1,4,6] [--levels normal,raised,hard]
(build the widget first: make -C widget build)

The challenges are the bots' own (``bots.sessions.challenge.Challenges`` with the levels of the
shipped example config), and every answer is checked by them (a wrong one fails the bench).
They are solved in Debian's Chromium the way the widget solves them: the normal level on the
main thread with altcha-lib, a raised or hard one by the widget's own built worker
(``widget/dist/assets/worker-*.js``), started as the widget starts it (``min(4,
hardwareConcurrency)`` workers, counters interleaved).

A slow phone is Chromium's CPU throttling (CDP ``Emulation.setCPUThrottlingRate``, 4x and 6x).
The time runs from handing the challenge over to having the solution; fetching it from the
API is not included (bench.widget and bench.flood time whole starts). Chromium derives PBKDF2
for WebCrypto natively, off the JavaScript thread, and the throttling does not slow that: the
"1x time x rate" rows are the unthrottled times multiplied by the rate, a pessimistic bound
for a phone whose cores are that much slower at everything.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import statistics
import time
from pathlib import Path
from typing import Any

from aiohttp import web

from bench.common import pct
from bots.networks import NetworkMemory
from bots.sessions.challenge import LEVELS, Challenges, ChallengeSettings, Level
from portal.widget import DIST
from tests.support.browser import chromium
from tests.support.config import example_config
from tests.support.synapse import free_port

ROOT = Path(__file__).resolve().parents[1]
ALTCHA = ROOT / "widget" / "node_modules" / "altcha-lib" / "dist" / "esm" / "v2"

PAGE = """<!doctype html><meta charset="utf-8"><title>proof of work</title>
<script type="module">
import { solveChallenge } from "/altcha/index.js";
import { deriveKey } from "/altcha/algorithms/web/pbkdf2.js";
window.cores = navigator.hardwareConcurrency || 1;
window.inWorkers = (challenge, count) => new Promise((resolve) => {
  const workers = [];
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    const w = new Worker("/worker.js", { type: "module" });
    workers.push(w);
    w.onmessage = (e) => {
      if (!e.data.solution) return;
      workers.forEach((x) => x.terminate());
      resolve({ ms: performance.now() - t0, solution: e.data.solution });
    };
    w.postMessage({ challenge, counterStart: i, counterStep: count });
  }
});
window.onMain = async (challenge) => {
  const t0 = performance.now();
  const solution = await solveChallenge({ challenge, deriveKey, timeout: 0 });
  return { ms: performance.now() - t0, solution };
};
window.ready = true;
</script>"""


class Clock:
    def now(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()


def worker_file() -> Path:
    found = sorted((DIST / "assets").glob("worker-*.js"))
    if not found:
        raise SystemExit("build the widget first: make -C widget build")
    return found[-1]


async def serve(worker: Path) -> tuple[web.AppRunner, str]:
    async def page(_: web.Request) -> web.Response:
        return web.Response(text=PAGE, content_type="text/html")

    async def script(_: web.Request) -> web.FileResponse:
        return web.FileResponse(worker, headers={"Content-Type": "text/javascript"})

    async def altcha(request: web.Request) -> web.StreamResponse:
        path = (ALTCHA / request.match_info["path"]).resolve()
        if not path.is_relative_to(ALTCHA) or not path.is_file():
            raise web.HTTPNotFound()
        return web.FileResponse(path, headers={"Content-Type": "text/javascript"})

    app = web.Application()
    app.router.add_get("/", page)
    app.router.add_get("/worker.js", script)
    app.router.add_get("/altcha/{path:.+}", altcha)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, f"http://127.0.0.1:{port}/"


def answer(challenge: dict[str, Any], solution: dict[str, Any]) -> str:
    body = {"challenge": challenge, "solution": {"counter": solution["counter"], "derivedKey": solution["derivedKey"]}}
    return base64.b64encode(json.dumps(body).encode()).decode()


async def bench(runs: int, rates: list[float], levels: list[Level]) -> None:
    settings = ChallengeSettings.of(example_config())
    challenges = Challenges(settings, NetworkMemory(Clock()), lambda: (0, 0), Clock())
    runner, url = await serve(worker_file())
    print(f"== proof of work: PBKDF2-SHA-256, {settings.cost} rounds a try; highest counter per level:")
    print("   " + ", ".join(f"{level} {settings.numbers[level]}" for level in LEVELS))
    try:
        async with chromium() as browser:
            page = await browser.new_page()
            cdp = await page.context.new_cdp_session(page)
            await page.goto(url)
            await page.wait_for_function("window.ready === true")
            workers = min(4, int(await page.evaluate("window.cores")))
            plain: dict[str, list[float]] = {}
            for level in levels:
                n = runs if level == "normal" else max(1, runs // (4 if level == "raised" else 10))
                for rate in rates:
                    await cdp.send("Emulation.setCPUThrottlingRate", {"rate": rate})
                    # The widget solves the normal level on the main thread, the others in workers.
                    ways = [("main thread", "onMain")] if level == "normal" else [(f"{workers} worker(s)", "inWorkers")]
                    for how, call in ways:
                        times = []
                        for _ in range(n):
                            challenge = challenges.make(level)
                            args = [challenge, workers] if call == "inWorkers" else [challenge]
                            got = await page.evaluate(f"([c, n]) => window.{call}(c, n)", args)
                            challenges.check(answer(challenge, got["solution"]), "127.0.0.1")
                            times.append(got["ms"] / 1000)
                        if rate == 1:
                            plain[level] = times
                        print(
                            f"{level:7} cpu {rate:g}x {how:13} n={n:3}  p50 {pct(times, 0.5):6.2f} s  "
                            f"p95 {pct(times, 0.95):6.2f} s  max {max(times):6.2f} s  "
                            f"mean {statistics.mean(times):6.2f} s"
                        )
                if level in plain:
                    for rate in rates:
                        if rate > 1:
                            scaled = [t * rate for t in plain[level]]
                            print(
                                f"{level:7} 1x time x {rate:g} (bound) p50 {pct(scaled, 0.5):6.2f} s  "
                                f"p95 {pct(scaled, 0.95):6.2f} s  max {max(scaled):6.2f} s"
                            )
            await cdp.send("Emulation.setCPUThrottlingRate", {"rate": 1})
    finally:
        await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20, help="solves per level and rate at the normal level")
    parser.add_argument("--rates", default="1,4,6", help="CPU throttling rates (1: none)")
    parser.add_argument("--levels", default="normal,raised,hard")
    args = parser.parse_args()
    levels = [level for level in LEVELS if level in args.levels.split(",")]
    asyncio.run(bench(args.runs, [float(r) for r in args.rates.split(",")], levels))


if __name__ == "__main__":
    main()
