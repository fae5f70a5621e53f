"""The widget solves the bots' proof of work before it starts a chat (docs/abuse.md), in
Debian's Chromium against the real stack: the normal level on the main thread, a raised one in
Web Workers of the widget's own files (the chat page's CSP allows no other), and the bots
accept the answer once."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from playwright.async_api import Page, Request

from tests.support.browser import Stack
from tests.support.widget import open_chat_page, start_chat

pytestmark = [pytest.mark.browser, pytest.mark.integration]


@pytest.fixture(scope="module")
def extra_config() -> dict[str, Any]:
    # One challenge a minute from a network at the normal level: the second start of the module
    # (the same 127.0.0.1) gets the raised level, solved in workers.
    return {"bots": {"challenge": {"enabled": True, "raise_below_ready": 0, "raise_starts_per_minute": 1}}}


async def started(page: Page, stack: Stack) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """Start a chat; the challenge the bots gave, the start's body, and the workers loaded."""
    workers: list[str] = []
    page.on("worker", lambda worker: workers.append(worker.url))
    bodies: list[dict[str, Any]] = []

    def seen(request: Request) -> None:
        if request.method == "POST" and request.url.endswith("/api/v1/sessions"):
            bodies.append(json.loads(request.post_data or "{}"))

    page.on("request", seen)
    await open_chat_page(page, stack)
    async with page.expect_response("**/api/v1/sessions/challenge") as info:
        session = await start_chat(page)
    challenge = json.loads(await (await info.value).text())
    assert session["room_id"].startswith("!")
    (body,) = bodies
    return challenge, body, workers


async def test_the_widget_solves_the_normal_challenge_on_the_page_and_starts(page: Page, stack: Stack) -> None:
    challenge, body, workers = await started(page, stack)
    assert challenge["level"] == "normal"
    assert set(body) == {"language", "entry", "challenge"}
    sent = json.loads(base64.b64decode(body["challenge"]))
    assert sent["challenge"] == challenge["challenge"]
    assert set(sent["solution"]) == {"counter", "derivedKey"}
    assert workers == []  # cheaper on the page than starting a worker
    assert await page.locator(".kp-slow").get_attribute("hidden") is not None  # nothing to say


async def test_a_raised_challenge_is_solved_in_the_widgets_own_workers_and_starts(page: Page, stack: Stack) -> None:
    challenge, body, workers = await started(page, stack)
    assert challenge["level"] == "raised"
    assert "challenge" in body
    assert workers and all(url.startswith(f"{stack.portal_url}/widget/assets/worker-") for url in workers)
    # While it solved, the visitor read that it takes a little longer.
    assert await page.locator(".kp-slow").get_attribute("hidden") is None
