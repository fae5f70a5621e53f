"""Outreach links and codes in the browser (issue 14, SECURITY.md A): the code travels only in
URL fragments, leaves the address bar and the history entry at once, reaches the session API only
in the start request's body, and can be typed on the start screen ("Ik heb een code").

No request URL of the whole page load may hold the code: a fragment never reaches a server, and
these tests check that nothing (the embed script, the chat frame, a redirect) ever turns it into
a path or a query string. Playwright reports a navigation's URL with its fragment; what a server
sees is the URL without it, so that is what is checked.
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.async_api import BrowserContext, Frame, FrameLocator, Page, Request, expect

from bots.db.system_room import SystemRoomStore
from tests.support.browser import Stack
from tests.support.matrix_clients import ClientFactory
from tests.support.staff import Observer, add_counsellor, bot_token
from tests.support.waiting import wait_until
from tests.support.widget import axe

pytestmark = [pytest.mark.browser, pytest.mark.integration]

# The shape of the bots' codes: 12 characters from 34679ACDEFGHJKMNPQRTWXY, shown in groups of 4.
CODE = "KX7M-3P9Q-AW4D"
HEADING = "Praat anoniem met een hulpverlener"


@dataclass
class Sent:
    url: str
    referer: str | None
    body: str | None


def record_requests(context: BrowserContext) -> list[Sent]:
    """Every request of every page and frame in the context, with its Referer and body."""
    seen: list[Sent] = []

    def on_request(request: Request) -> None:
        seen.append(Sent(request.url, request.headers.get("referer"), request.post_data))

    context.on("request", on_request)
    return seen


def holds_code(text: str | None, code: str = CODE) -> bool:
    bare = re.sub(r"[^0-9A-Z]", "", (text or "").upper())
    return code.replace("-", "") in bare


def reached_servers(seen: list[Sent], code: str = CODE) -> list[str]:
    """Request URLs (as a server gets them: without the fragment) and Referers that hold the code."""
    return [s.url for s in seen if holds_code(s.url.split("#")[0], code) or holds_code(s.referer, code)]


def start_bodies(seen: list[Sent]) -> list[dict[str, Any]]:
    return [json.loads(s.body or "{}") for s in seen if s.url.endswith("/api/v1/sessions")]


def chat_frame(page: Page) -> Frame:
    frame = next((f for f in page.frames if "/chat/" in f.url), None)
    assert frame is not None, [f.url for f in page.frames]
    return frame


async def press_start(page: Page, frame: FrameLocator | Page) -> None:
    async with page.expect_request("**/api/v1/sessions"):
        await frame.locator("button.kp-primary", has_text="Start").click()


async def addresses(page: Page) -> list[str]:
    """What the address bar of the page and of the chat frame say now, as the pages see it."""
    return [str(await page.evaluate("location.href")), str(await chat_frame(page).evaluate("location.href"))]


async def test_an_invite_link_to_the_chat_page_leaves_no_trace_and_starts_an_outreach_chat(
    stack: Stack, context: BrowserContext, page: Page
) -> None:
    seen = record_requests(context)
    await page.goto(f"{stack.portal_url}/nl/chat#invite={CODE}")
    frame = page.frame_locator("[data-chat-root] iframe")
    await expect(frame.locator("h1").first).to_have_text(HEADING)

    # The chat frame got the code in its fragment (never its query)...
    src = str(await page.locator("[data-chat-root] iframe").get_attribute("src"))
    assert "invite=" not in src.split("#")[0] and holds_code(src.split("#", 1)[1])
    # ...and both address bars dropped it, by replacing the history entry (nothing to go Back to).
    await wait_until(lambda: "#" not in chat_frame(page).url, what="the frame's address to lose the code")
    for address in await addresses(page):
        assert not holds_code(address), address
    assert page.url == f"{stack.portal_url}/nl/chat"

    # The start screen is the plain one: a code, valid or not, shows nothing different. (The
    # frame element's src attribute keeps the code in this page's memory until it closes.)
    for shown in (page, chat_frame(page)):
        assert not holds_code(await shown.locator("body").inner_text())
    await expect(frame.get_by_role("button", name="Ik heb een code")).to_have_attribute("aria-expanded", "false")

    await press_start(page, frame)
    assert start_bodies(seen) == [{"language": "nl", "entry": "outreach", "invite": CODE}]
    assert reached_servers(seen) == []

    # No entry of this tab's history holds the code: walk them all back.
    visited = [page.url]
    for _ in range(int(await page.evaluate("history.length")) - 1):
        await page.go_back()
        visited.append(page.url)
    assert not any(holds_code(url) for url in visited), visited


@pytest.mark.parametrize(
    ("path", "campaign"),
    [("/nl/campagne/geldezel-no-way", "geldezel-no-way"), ("/nl/artikel/zo-word-je-geronseld", None)],
)
async def test_an_invite_link_to_an_article_or_campaign_opens_the_chat_at_once_ready_to_start(
    stack: Stack, context: BrowserContext, page: Page, path: str, campaign: str | None
) -> None:
    seen = record_requests(context)
    await page.goto(f"{stack.portal_url}{path}#invite={CODE.lower()}")
    # No click: the chat is open on the page, at its start screen ("read this, then talk to me").
    frame = page.frame_locator('iframe[title="Keerpunt chat"]')
    await expect(frame.locator("h1").first).to_have_text(HEADING)
    assert page.url == f"{stack.portal_url}{path}"
    await wait_until(lambda: "#" not in chat_frame(page).url, what="the frame's address to lose the code")
    for address in await addresses(page):
        assert not holds_code(address), address
    # The article is still there behind it; minimising shows it and keeps the chat.
    await frame.get_by_role("button", name="Chat verkleinen").click()
    await expect(page.locator("h1").first).to_be_visible()
    await page.get_by_role("button", name="Chat anoniem").click()

    await press_start(page, frame)
    expected: dict[str, Any] = {"language": "nl", "entry": "outreach", "invite": CODE}
    if campaign:
        expected["campaign"] = campaign
    assert start_bodies(seen) == [expected]
    assert reached_servers(seen) == []


async def test_a_campaign_page_without_a_code_starts_with_the_campaign_tag(
    stack: Stack, context: BrowserContext, page: Page
) -> None:
    seen = record_requests(context)
    await page.goto(f"{stack.portal_url}/nl/campagne/geldezel-no-way")
    await expect(page.locator('iframe[title="Keerpunt chat"]')).to_have_count(0)  # nothing opens by itself
    # The campaign's chat button goes to the chat page with the campaign; the chat there carries it.
    await page.locator(".chat-box a[data-campaign]").click()
    await page.wait_for_url(f"{stack.portal_url}/nl/chat?campaign=geldezel-no-way")
    frame = page.frame_locator("[data-chat-root] iframe")
    await expect(frame.locator("h1").first).to_have_text(HEADING)
    await press_start(page, frame)
    assert start_bodies(seen) == [{"language": "nl", "entry": "widget", "campaign": "geldezel-no-way"}]


async def test_a_code_in_the_query_string_is_ignored_and_still_removed(
    stack: Stack, context: BrowserContext, page: Page
) -> None:
    seen = record_requests(context)
    await page.goto(f"{stack.portal_url}/nl/chat?invite={CODE}")
    frame = page.frame_locator("[data-chat-root] iframe")
    await expect(frame.locator("h1").first).to_have_text(HEADING)
    await wait_until(lambda: page.url == f"{stack.portal_url}/nl/chat", what="the address bar to lose the code")
    src = str(await page.locator("[data-chat-root] iframe").get_attribute("src"))
    assert not holds_code(src)
    await press_start(page, frame)
    assert start_bodies(seen) == [{"language": "nl", "entry": "widget"}]
    # Only the page load itself (the wrong link) ever carried it.
    assert reached_servers(seen) == [f"{stack.portal_url}/nl/chat?invite={CODE}"]


async def test_i_have_a_code_with_the_keyboard_alone_sends_it_and_passes_axe(stack: Stack, axe_page: Page) -> None:
    page = axe_page
    seen = record_requests(page.context)
    await page.goto(f"{stack.portal_url}/chat/?lang=nl")
    await expect(page.locator("#kp-app h1").first).to_have_text(HEADING)
    toggle = page.get_by_role("button", name="Ik heb een code")
    await toggle.focus()
    await page.keyboard.press("Enter")
    await expect(toggle).to_have_attribute("aria-expanded", "true")
    field = page.get_by_label("Jouw code")
    await expect(field).to_be_focused()
    for name, value in {
        "autocomplete": "off",
        "autocapitalize": "characters",
        "spellcheck": "false",
        "inputmode": "text",
        "autocorrect": "off",
    }.items():
        await expect(field).to_have_attribute(name, value)
    await axe(page, "start with 'I have a code' open (nl)")
    assert await page.evaluate("document.documentElement.scrollWidth") <= 320, "no sideways scrolling at 320 px"
    await page.get_by_role("combobox", name="Taal").select_option("en")
    await expect(page.get_by_label("Your code")).to_be_visible()
    await axe(page, "start with 'I have a code' open (en)")
    await page.get_by_role("combobox", name="Language").select_option("nl")

    # Read aloud, typed every which way: the API gets the code in its one form.
    await field.press_sequentially("kx7m 3p9q aw4d")
    async with page.expect_request("**/api/v1/sessions"):
        await field.press("Enter")
    assert start_bodies(seen) == [{"language": "nl", "entry": "outreach", "invite": CODE}]
    assert reached_servers(seen) == []


# --- with the real bots: an invite a worker asks for in Element ------------------------------


async def outreach_worker(stack: Stack, clients: ClientFactory) -> tuple[Observer, str]:
    """A cross-signed outreach worker in the outreach room (as `keerpunt staff add --role outreach`)."""
    worker = await add_counsellor(clients, stack.config, stack.bots.db, "werker", role="outreach")
    room = await SystemRoomStore(stack.bots.db).get("outreach")
    assert room is not None
    admin = await clients.admin(await bot_token(stack.config))
    await admin.force_join(room, worker.user_id)
    await worker.wait_for(lambda: room in worker.user.client.rooms, what="the outreach room")
    return worker, room


async def start_from_link(page: Page, link: str) -> tuple[FrameLocator, dict[str, Any]]:
    await page.goto(link)
    frame = page.frame_locator('iframe[title="Keerpunt chat"], [data-chat-root] iframe')
    await expect(frame.locator("h1").first).to_have_text(HEADING)
    async with page.expect_response("**/api/v1/sessions") as info:
        await frame.locator("button.kp-primary", has_text="Start").click()
    response = await info.value
    assert response.status == 201, await response.text()
    session: dict[str, Any] = await response.json()
    await expect(frame.locator(".kp-msg--bot").first).to_be_visible(timeout=30000)
    return frame, session


async def test_an_invite_a_worker_asks_for_routes_the_visitor_to_that_worker_once(
    stack: Stack, context: BrowserContext, page: Page, clients: ClientFactory
) -> None:
    worker, room = await outreach_worker(stack, clients)
    await worker.say(room, "!outreach link geldezel-no-way")
    answer = await worker.wait_message(
        room, stack.bots.user_id, lambda e: "nl.keerpunt.invite" in e["content"], within=30, what="the invite"
    )
    invite = answer["content"]["nl.keerpunt.invite"]
    code, link = str(invite["code"]), str(invite["link"])
    assert link == f"{stack.portal_url}/nl/campagne/geldezel-no-way#invite={code}"

    sent = {"language": "nl", "entry": "outreach", "invite": code, "campaign": "geldezel-no-way"}
    seen = record_requests(context)
    frame, session = await start_from_link(page, link)
    assert not holds_code(page.url, code) and not holds_code(chat_frame(page).url, code)
    assert start_bodies(seen) == [sent]
    assert reached_servers(seen, code) == []

    # The worker who reached out is invited at once, and they talk, encrypted, both ways.
    case_room = session["room_id"]
    await worker.wait_for(lambda: case_room in worker.user.client.invited_rooms, within=30, what="the case room invite")
    await worker.join(case_room)
    await worker.say(case_room, "Hoi, ik ben het, van Instagram.")
    await expect(frame.get_by_text("Hoi, ik ben het, van Instagram.")).to_be_visible(timeout=30000)
    box = frame.locator("#kp-input")
    await box.fill("Hoi! Fijn dat je er bent.")
    await box.press("Enter")
    await worker.wait_message(
        case_room,
        session["user_id"],
        lambda e: e["content"].get("body") == "Hoi! Fijn dat je er bent.",
        within=30,
        what="the visitor's message",
    )

    # The same link again (used now): the same answer and start screen as a plain start, and the
    # worker is not invited.
    again = await context.new_page()
    seen.clear()
    _, session2 = await start_from_link(again, link)
    assert set(session2) == set(session) and session2["room_id"] != case_room
    assert start_bodies(seen) == [sent]
    await asyncio.sleep(3)
    await worker.sync()
    assert session2["room_id"] not in worker.user.client.invited_rooms
    assert session2["room_id"] not in worker.user.client.rooms
