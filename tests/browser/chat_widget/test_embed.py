"""The embed script on a partner's page: nothing loads before the click, the chat runs in an
iframe from the Keerpunt origin, only that iframe's messages count, and quick exit leaves the
whole page."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from playwright.async_api import BrowserContext, Frame, Page, Route, expect

from tests.support.browser import NEUTRAL_URL, Stack
from tests.support.waiting import wait_until
from tests.support.widget import case_of, record_dialogs, whoami_status

pytestmark = [pytest.mark.browser, pytest.mark.integration]

FORGED = '{protocol: "keerpunt-widget/1", action: "quick-exit", url: "https://neutral.test/forged"}'


def host_page(stack: Stack) -> str:
    return f"""<!doctype html><html lang="nl"><head><title>Partner</title></head><body>
<h1>Partnersite</h1><p>Gewone tekst van de partner.</p>
<iframe title="advertentie" src="{stack.sites.origins["evil"]}/frame"></iframe>
<script src="{stack.portal_url}/widget/embed.js" async></script>
</body></html>"""


EVIL_FRAME = "<!doctype html><title>ad</title><p>ad</p>"


def evil_embedding(stack: Stack) -> str:
    return f"""<!doctype html><title>evil</title>
<iframe title="stolen" src="{stack.portal_url}/chat/?embed=1&host={stack.sites.origins["evil"]}"></iframe>"""


@pytest.fixture
async def sites(context: BrowserContext, stack: Stack) -> list[str]:
    """The partner's page, a foreign ad frame and a foreign page that tries to frame the chat;
    returns the neutral site's requests with their Referer."""
    neutral_requests: list[str] = []
    stack.sites.serve("host", "/", host_page(stack))
    stack.sites.serve("evil", "/frame", EVIL_FRAME)
    stack.sites.serve("evil", "/embed", evil_embedding(stack))

    async def neutral(route: Route) -> None:
        neutral_requests.append(f"{route.request.url} referer={await route.request.header_value('referer')}")
        await route.fulfill(status=200, content_type="text/html", body="<!doctype html><h1>Weer</h1>")

    await context.unroute("https://neutral.test/**")
    await context.route("https://neutral.test/**", neutral)
    return neutral_requests


def chat_frame(page: Page) -> Frame:
    frame = next((f for f in page.frames if "/chat/" in f.url), None)
    assert frame is not None, [f.url for f in page.frames]
    return frame


async def open_and_start(page: Page, stack: Stack) -> dict[str, Any]:
    await page.get_by_role("button", name="Chat anoniem").click()
    frame = page.frame_locator('iframe[title="Keerpunt chat"]')
    await expect(frame.locator("h1").first).to_have_text("Praat anoniem met een hulpverlener")
    async with page.expect_response("**/api/v1/sessions") as info:
        await frame.locator("button.kp-primary", has_text="Start").click()
    session = dict(await (await info.value).json())
    await expect(frame.locator(".kp-msg--bot").first).to_be_visible(timeout=30000)
    return session


async def test_embed_script_loads_nothing_else_before_the_click(stack: Stack, page: Page, sites: list[str]) -> None:
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    await page.goto(stack.sites.origins["host"] + "/")
    await expect(page.get_by_role("button", name="Chat anoniem")).to_be_visible()
    await asyncio.sleep(1.0)
    ours = [u for u in requests if u.startswith(stack.portal_url)]
    assert ours == [f"{stack.portal_url}/widget/embed.js"]
    assert not any(f.url.startswith(stack.portal_url) for f in page.frames)


async def test_only_the_chat_frame_can_drive_the_host_page_and_quick_exit_leaves_it(
    stack: Stack, page: Page, sites: list[str]
) -> None:
    dialogs = record_dialogs(page)
    await page.goto(stack.sites.origins["host"] + "/")
    session = await open_and_start(page, stack)
    await page.frame_locator('iframe[title="Keerpunt chat"]').locator("#kp-input").fill("Hoi, ik ben het")
    await page.frame_locator('iframe[title="Keerpunt chat"]').locator("#kp-input").press("Enter")
    await expect(page.frame_locator('iframe[title="Keerpunt chat"]').locator(".kp-msg--me .kp-status")).to_have_text(
        "Verstuurd", timeout=20000
    )

    # A foreign frame on the same page, and the host page itself, cannot trigger anything.
    evil = next(f for f in page.frames if f.url.startswith(stack.sites.origins["evil"]))
    await evil.evaluate(f"parent.postMessage({FORGED}, '*')")
    await page.evaluate(f"window.postMessage({FORGED}, '*')")
    await asyncio.sleep(0.5)
    assert page.url == stack.sites.origins["host"] + "/"
    # The chat frame ignores a foreign window too (it would otherwise move focus).
    chat = chat_frame(page)
    await chat.get_by_role("button", name="Gesprek stoppen").focus()
    await evil.evaluate(
        "for (let i = 0; i < parent.frames.length; i++)"
        " parent.frames[i].postMessage({protocol: 'keerpunt-widget/1', action: 'focus'}, '*')"
    )
    await asyncio.sleep(0.3)
    assert await chat.evaluate("document.activeElement.textContent") == "Gesprek stoppen"

    # Minimise keeps the conversation; the launcher gets focus back.
    await chat.get_by_role("button", name="Chat verkleinen").click()
    launcher = page.get_by_role("button", name="Chat anoniem")
    await expect(launcher).to_be_focused()
    await launcher.click()
    await expect(chat.locator(".kp-msg--bot").first).to_be_visible()

    # Shift three times inside the frame leaves the whole page for the neutral site.
    await chat.locator("#kp-input").focus()
    for _ in range(3):
        await page.keyboard.press("Shift")
    await page.wait_for_url(NEUTRAL_URL, timeout=10000)
    assert sites == [f"{NEUTRAL_URL} referer=None"]
    assert dialogs == []
    await wait_until(lambda: _dead(stack, session), within=30, what="the token to be revoked")
    case = await case_of(stack, session["user_id"])
    assert case is not None and case.state == "closed" and case.close_reason == "quick_exit"
    # Back never shows the chat (the partner page's history entry was replaced, too).
    await page.go_back()
    await page.wait_for_load_state()
    await asyncio.sleep(0.5)
    for frame in page.frames:
        assert "Hoi" not in await frame.content()
        assert await frame.locator(".kp-msg").count() == 0


async def test_portal_quick_exit_on_the_host_page_also_ends_the_chat(
    stack: Stack, page: Page, sites: list[str]
) -> None:
    dialogs = record_dialogs(page)
    await page.goto(stack.sites.origins["host"] + "/")
    session = await open_and_start(page, stack)
    chat = chat_frame(page)
    await chat.locator("#kp-input").fill("typing gives the frame a user gesture")
    # What the portal's quick-exit.js does: announce, then leave.
    await page.evaluate(
        f"window.dispatchEvent(new CustomEvent('keerpunt:quick-exit')); location.replace('{NEUTRAL_URL}')"
    )
    await page.wait_for_url(NEUTRAL_URL, timeout=10000)
    assert dialogs == [], "a 'leave this page?' question must never hold up a quick exit"
    await wait_until(lambda: _dead(stack, session), within=30, what="the token to be revoked")


async def test_a_page_outside_the_allowlist_cannot_frame_the_chat(stack: Stack, page: Page, sites: list[str]) -> None:
    await page.goto(stack.sites.origins["evil"] + "/embed")
    await asyncio.sleep(1.0)
    framed = [f for f in page.frames if f.url.startswith(stack.portal_url)]
    for frame in framed:
        assert await frame.locator("#kp-app").count() == 0


async def _dead(stack: Stack, session: dict[str, Any]) -> bool:
    return await whoami_status(stack, session["access_token"]) == 401


async def test_on_a_page_made_for_the_chat_it_sits_inline_without_a_launcher(stack: Stack, page: Page) -> None:
    url = stack.sites.serve(
        "host",
        "/chat",
        '<!doctype html><html lang="nl"><title>Chat</title><a href="#x">eerste link</a>'
        '<div id="chat" data-chat-root><p>De chat laadt…</p></div>'
        f'<script src="{stack.portal_url}/widget/embed.js" async></script></html>',
    )
    await page.goto(url)
    frame = page.frame_locator("[data-chat-root] iframe")
    await expect(frame.locator("h1").first).to_have_text("Praat anoniem met een hulpverlener")
    await expect(page.get_by_role("button", name="Chat anoniem")).to_have_count(0)
    await expect(frame.get_by_role("button", name="Chat verkleinen")).to_have_count(0)
    await asyncio.sleep(0.3)
    assert await page.evaluate("document.activeElement === document.body"), "the page keeps its focus"
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.textContent") == "eerste link"
    async with page.expect_response("**/api/v1/sessions"):
        await frame.locator("button.kp-primary", has_text="Start").click()
    await expect(frame.locator(".kp-msg--bot").first).to_be_visible(timeout=30000)
