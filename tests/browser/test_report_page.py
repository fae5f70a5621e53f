"""The HTML report of `keerpunt report` in Debian's Chromium: it opens from a file with the
network blocked and asks for nothing, passes axe-core (WCAG 2.1 A and AA), reflows to 320
pixels, and the test saves a screenshot of it (issue 12's last acceptance bullet)."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from playwright.async_api import Browser, BrowserContext, Page, Route

from bots.db import create_database
from bots.db.stats import StatStore
from bots.stats.report import MEASURES
from keerpunt.cli import main
from tests.support.browser import AXE
from tests.support.synapse import make_test_config

pytestmark = [pytest.mark.browser]

# A week of a small pilot: every measure has cells, some of them under min_cell.
DAY = "2026-03-04"
COUNTS = {
    "sessions_started": {
        "total": 23,
        "entry:widget": 19,
        "entry:outreach": 4,
        "language:nl": 20,
        "language:en": 3,
        "campaign:none": 17,
        "campaign:geldezel": 6,
        "hours:open": 21,
        "hours:closed": 2,
    },
    "triage_answers": {
        "total": 61,
        "audience=self": 12,
        "audience=close": 6,
        "audience=professional": 3,
        "danger=no": 14,
        "danger=yes": 3,
        "danger=unsure": 5,
        "topic=drug-running": 8,
        "topic=money-mule": 7,
        "topic=debts": 5,
        "topic=skip": 1,
        "region=zuid-holland": 9,
        "region=noord-holland": 6,
        "region=utrecht": 3,
    },
    "urgent": {"total": 3},
    "queue": {"total": 21, "waited": 21, "picked_up": 17, "abandoned_before_pickup": 4},
    "waiting_time": {"total": 17, "0-5": 9, "5-15": 5, "15-30": 2, "120+": 1},
    "conversation_length": {"total": 17, "10-20": 6, "20-30": 11},
    "outcomes": {"total": 17, "helped": 10, "referred": 5, "no-contact": 2},
    "close_reasons": {"total": 23, "counsellor": 17, "abandoned": 4, "quick_exit": 2},
    "handovers": {"total": 6, "result:consented": 5, "result:arrived": 5, "care:asked": 6, "care:arrived": 5},
    "outreach_approaches": {
        "total": 14,
        "channel:instagram": 9,
        "channel:street": 5,
        "approach:talked": 11,
        "approach:declined": 3,
    },
    # The counsellor's side (issue 24): load, breaks, wrap-up, the visitor's verdict, staff actions.
    "chats_per_hour": {"hour:09": 5, "hour:14": 8, "hour:20": 4},
    "concurrent_chats": {"total": 17, "chats:1": 9, "chats:2": 6, "chats:3": 2},
    "breaks": {"total": 7, "minutes:0-15": 4, "minutes:15-30": 2, "minutes:60-120": 1},
    "break_minutes": {"total": 145},
    "wrap_up_topics": {"drug-running": 7, "money-mule": 6, "none": 4},
    "wrap_up_referrals": {"police": 3, "veilig-thuis": 2, "none": 12},
    "feedback": {"total": 9, "helped=yes": 6, "helped=a-bit": 2, "helped=no": 1, "again=yes": 7, "again=maybe": 2},
    "vetted_texts": {"noodnummers": 4, "fier": 2, "terugkomcode": 6},
    "staff_actions": {"next": 12, "pause": 7, "resume": 7, "watch": 2, "whisper": 3, "wrapup": 15},
    # Messages for later (issue 25) and the proof of work before a start (issue 23).
    "async": {
        "total": 8,
        "reason:closed": 6,
        "reason:long_wait": 2,
        "answered": 7,
        "answered_in_time": 6,
        "answered_late": 1,
        "answer_hours:1-4": 3,
        "answer_hours:4-8": 3,
        "answer_hours:24-48": 1,
        "returned": 5,
        "returned_to_read": 5,
    },
    "challenges": {"total": 41, "level:normal": 36, "level:raised": 4, "level:hard": 1},
}
# Measures with a total only draw no chart.
TOTAL_ONLY = {"urgent", "break_minutes"}
# Every violation of WCAG 2.1 A and AA, whatever its impact: the page is static and small.
RUN_AXE = """async () => {
  const tags = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];
  const result = await axe.run(document, {runOnly: {type: "tag", values: tags}});
  return result.violations.map((v) => ({id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(" "))}));
}"""
# A copy of the Dutch screenshot for a person to look at, when KEERPUNT_REPORT_SAMPLE names a file.
SAMPLE = os.environ.get("KEERPUNT_REPORT_SAMPLE", "")


async def render(tmp_path: Path, language: str) -> Path:
    """The report as `keerpunt report --output` writes it, from a bots database."""
    data = tmp_path / "data"
    if not (data / "bots" / "bots.db").exists():
        db = create_database(make_test_config(data))
        await db.start()
        try:
            for measure, cells in COUNTS.items():
                for dimension, count in cells.items():
                    await StatStore(db).add(DAY, measure, dimension, count)
        finally:
            await db.stop()
    config = tmp_path / "keerpunt.yaml"
    config.write_text(yaml.safe_dump({"data_dir": str(data), "statistics": {"min_cell": 5}}), "utf-8")
    target = tmp_path / f"report.{language}.html"
    argv = ["--config", str(config), "report", "--from", "2026-03-02", "--to", "2026-03-08"]
    code = await asyncio.to_thread(main, [*argv, "--lang", language, "--output", str(target)])
    assert code == 0
    return target


class Offline:
    """Every request the pages make; only the report file itself may load, the rest is refused."""

    def __init__(self) -> None:
        self.allowed: set[str] = set()
        self.requested: list[str] = []
        self.refused: list[str] = []
        self.errors: list[str] = []

    async def route(self, route: Route) -> None:
        if route.request.url in self.allowed:
            await route.continue_()
        else:
            self.refused.append(route.request.url)
            await route.abort()

    def watch(self, page: Page) -> None:
        page.on("request", lambda request: self.requested.append(request.url))
        page.on("console", lambda msg: self.errors.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))


@pytest.fixture
async def offline_context(browser: Browser) -> AsyncIterator[tuple[BrowserContext, Offline]]:
    # The page's own CSP (default-src 'none') would refuse axe's inline script: bypass it for axe.
    context = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="nl-NL", bypass_csp=True)
    offline = Offline()
    await context.route("**/*", offline.route)
    await context.set_offline(True)
    try:
        yield context, offline
    finally:
        await context.close()


async def axe_violations(page: Page) -> list[dict[str, Any]]:
    await page.add_script_tag(path=str(AXE))
    violations: list[dict[str, Any]] = await page.evaluate(RUN_AXE)
    return violations


@pytest.mark.parametrize("language", ["nl", "en"])
async def test_the_report_opens_offline_asks_for_nothing_and_passes_axe(
    offline_context: tuple[BrowserContext, Offline], tmp_path: Path, language: str
) -> None:
    context, offline = offline_context
    report = await render(tmp_path, language)
    url = report.as_uri()
    offline.allowed.add(url)
    page = await context.new_page()
    offline.watch(page)
    await page.goto(url)

    assert offline.requested == [url], "the page asked for more than itself"
    assert offline.refused == []
    assert offline.errors == []
    assert await page.evaluate("document.scripts.length") == 0
    assert await page.evaluate("document.documentElement.lang") == language
    assert await page.locator("h1").count() == 1
    assert set(COUNTS) == set(MEASURES), "the sample covers every measure a report lists"
    assert await page.locator("section h2").count() == len(COUNTS)
    assert await page.locator("svg[aria-hidden='true']").count() == len(COUNTS) - len(TOTAL_ONLY)
    assert await page.locator("td", has_text="<5").count() > 0

    path = tmp_path / f"report-{language}.png"
    await page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000
    if language == "nl" and SAMPLE:
        shutil.copyfile(path, SAMPLE)

    assert await axe_violations(page) == []
    await page.set_viewport_size({"width": 320, "height": 640})
    assert await page.evaluate("document.documentElement.scrollWidth") <= 320, "no sideways scrolling at 320 px"
    assert offline.requested == [url]
