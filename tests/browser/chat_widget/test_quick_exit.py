"""Quick exit from the chat (SECURITY.md A.1 to A.4) against the real stack."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import quote

import pytest
from playwright.async_api import BrowserContext, Page, Route, expect

from bots.texts import text
from tests.support.browser import NEUTRAL_URL, Stack
from tests.support.handover import admin_get
from tests.support.matrix_clients import ClientFactory, TestUser
from tests.support.staff import add_counsellor
from tests.support.waiting import wait_until
from tests.support.widget import (
    answer_triage_with_buttons,
    case_of,
    claim_and_join,
    counsellor_joins,
    counsellor_says,
    open_chat_page,
    record_dialogs,
    start_chat,
    storage_of,
    visitor_says,
    whoami_status,
)

pytestmark = [pytest.mark.browser, pytest.mark.integration]

SECRET = "mijn geheime bericht 7731"
AT_ONCE = """() => {
  document.getElementById("kp-quick-exit").click();
  const cover = document.querySelector(".kp-cover");
  return {
    covered: !!cover && getComputedStyle(cover).display !== "none",
    log: document.querySelectorAll(".kp-log li").length,
    secret: document.body.innerText.includes("geheime"),
  };
}"""


class Neutral:
    """Answers the neutral site and remembers the headers it was asked with."""

    def __init__(self) -> None:
        self.referers: list[str | None] = []

    async def handle(self, route: Route) -> None:
        self.referers.append(await route.request.header_value("referer"))
        body = "<!doctype html><title>Weer</title><h1>Weer</h1>"
        await route.fulfill(status=200, content_type="text/html", body=body)


@pytest.fixture
async def neutral(context: BrowserContext) -> Neutral:
    watcher = Neutral()
    await context.unroute("https://neutral.test/**")
    await context.route("https://neutral.test/**", watcher.handle)
    return watcher


async def chat_with_secret(page: Page, stack: Stack, counsellor: TestUser) -> dict[str, Any]:
    # Arrive from a portal page, so Back has somewhere to go.
    await page.goto(f"{stack.portal_url}/nl/")
    await open_chat_page(page, stack)
    session = await start_chat(page)
    await counsellor_joins(stack, counsellor, session)
    await counsellor_says(counsellor, session["room_id"], "Hoi, ik ben er")
    await expect(page.get_by_text("Hoi, ik ben er")).to_be_visible(timeout=20000)
    await visitor_says(page, SECRET)
    await expect(page.locator(".kp-msg--me .kp-status", has_text="Verstuurd")).to_have_count(1, timeout=20000)
    return session


async def assert_left_without_trace(page: Page, stack: Stack, session: dict[str, Any], neutral: Neutral) -> None:
    await page.wait_for_url(NEUTRAL_URL, timeout=10000)
    await expect(page.locator("h1")).to_have_text("Weer")
    assert neutral.referers == [None], "the neutral site must be opened without a Referer"
    # The old token is dead and the case is closed as a quick exit (the counsellor's notice is issue 4).
    await wait_until(lambda: _token_dead(stack, session), within=30, what="the access token to be revoked")
    case = await wait_until(lambda: _closed(stack, session), within=30, what="the case to be closed")
    assert case.close_reason == "quick_exit"
    # Back never shows the conversation.
    await page.go_back()
    await page.wait_for_load_state()
    assert page.url.startswith(stack.portal_url)
    assert SECRET not in await page.content()
    assert "Hoi, ik ben er" not in await page.content()
    # Nothing stays on the widget's origin.
    assert await storage_of(page) == {"local": 0, "session": 0, "idb": [], "caches": [], "cookie": ""}
    assert await page.context.cookies() == []


async def _token_dead(stack: Stack, session: dict[str, Any]) -> bool:
    return await whoami_status(stack, session["access_token"]) == 401


async def _closed(stack: Stack, session: dict[str, Any]) -> Any:
    case = await case_of(stack, session["user_id"])
    return case if case is not None and case.state == "closed" else None


async def test_quick_exit_button_leaves_at_once_and_leaves_nothing_behind(
    stack: Stack, page: Page, counsellor: TestUser, neutral: Neutral
) -> None:
    dialogs = record_dialogs(page)
    session = await chat_with_secret(page, stack, counsellor)
    # Click it and look in the same task: the cover is up and the conversation gone at once.
    at_once = await page.evaluate(AT_ONCE)
    assert at_once == {"covered": True, "log": 0, "secret": False}
    await assert_left_without_trace(page, stack, session, neutral)
    assert dialogs == [], "no 'leave this page?' question may hold up a quick exit"


async def test_pressing_shift_three_times_exits(
    stack: Stack, page: Page, counsellor: TestUser, neutral: Neutral
) -> None:
    dialogs = record_dialogs(page)
    session = await chat_with_secret(page, stack, counsellor)
    for _ in range(3):
        await page.keyboard.press("Shift")
    await assert_left_without_trace(page, stack, session, neutral)
    assert dialogs == []


async def test_a_held_up_end_request_still_closes_and_erases_the_case_and_the_counsellor_is_told(
    stack: Stack, page: Page, clients: ClientFactory, neutral: Neutral
) -> None:
    """Issue 13: under load the logout used to beat the end request, and the bots could no longer
    find the case. The end request is held 2 s on its way here; the page still leaves at once."""
    counsellor = await add_counsellor(clients, stack.config, stack.bots.db, "dirk")
    await open_chat_page(page, stack)
    session = await start_chat(page)
    await answer_triage_with_buttons(page)
    await claim_and_join(stack, counsellor, session)
    room = session["room_id"]
    await counsellor.say(room, "Hoi, ik ben Dirk")
    await expect(page.get_by_text("Hoi, ik ben Dirk")).to_be_visible(timeout=30000)

    held: list[str] = []
    released = asyncio.Event()

    async def hold(route: Route) -> None:
        held.append(route.request.url)
        await asyncio.sleep(2)
        await route.continue_()
        released.set()

    logouts: list[str] = []
    page.context.on("request", lambda r: logouts.append(r.url) if r.url.endswith("/logout") else None)
    await page.context.route("**/api/v1/sessions/end", hold)
    at_once = await page.evaluate(AT_ONCE)
    assert at_once == {"covered": True, "log": 0, "secret": False}
    await page.wait_for_url(NEUTRAL_URL, timeout=10000)
    assert not released.is_set(), "the page must leave at once, not wait for the end request"

    case = await wait_until(lambda: _closed(stack, session), within=30, what="the case to be closed")
    assert case.close_reason == "quick_exit"
    assert len(held) == 1 and released.is_set()
    erased = await wait_until(lambda: _erased(stack, session), within=30, what="the account to be erased")
    assert erased.erased_at is not None
    status, account = await admin_get(clients, f"/_synapse/admin/v2/users/{quote(session['user_id'])}")
    assert status == 200 and account["deactivated"] is True and account["erased"] is True
    assert await _token_dead(stack, session)
    notice = text("nl", "queue.staff.visitor_quick_exit")
    await counsellor.wait_message(
        room, stack.bots.user_id, lambda e: e["content"]["body"] == notice, within=30, what="the quick-exit notice"
    )
    # Nothing raced the end request: the bots' erase ended the token, no logout was needed.
    assert logouts == []


async def _erased(stack: Stack, session: dict[str, Any]) -> Any:
    case = await case_of(stack, session["user_id"])
    return case if case is not None and case.erased_at is not None else None


async def test_shift_used_as_a_modifier_resets_the_count(stack: Stack, page: Page, neutral: Neutral) -> None:
    await open_chat_page(page, stack)
    await page.keyboard.press("Shift")
    await page.keyboard.press("Shift")
    await page.keyboard.press("Shift+A")
    await page.keyboard.press("Shift")
    await asyncio.sleep(0.5)
    assert page.url.startswith(stack.portal_url)
    await page.keyboard.press("Shift")
    await page.keyboard.press("x")
    await page.keyboard.press("Shift")
    await page.keyboard.press("Shift")
    await asyncio.sleep(0.5)
    assert page.url.startswith(stack.portal_url), "any other key resets the count"
    await page.keyboard.press("Shift")
    await page.wait_for_url(NEUTRAL_URL, timeout=5000)


async def test_a_pause_of_six_seconds_resets_the_count(stack: Stack, page: Page, neutral: Neutral) -> None:
    await page.clock.install()
    await open_chat_page(page, stack)
    await page.keyboard.press("Shift")
    await page.keyboard.press("Shift")
    await page.clock.fast_forward(6000)
    await page.keyboard.press("Shift")
    await asyncio.sleep(0.5)
    assert page.url.startswith(stack.portal_url), "a press after 6 s starts a new count"
    await page.clock.fast_forward(4000)
    await page.keyboard.press("Shift")
    await page.clock.fast_forward(4000)
    await page.keyboard.press("Shift")
    await page.wait_for_url(NEUTRAL_URL, timeout=5000)
