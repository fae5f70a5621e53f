"""Every screen passes axe-core without serious or critical violations, and the whole flow works
with the keyboard alone (SECURITY.md A.1: quick exit is the first Tab stop)."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from tests.support.browser import Stack
from tests.support.matrix_clients import TestUser
from tests.support.widget import (
    axe,
    counsellor_joins,
    counsellor_says,
    open_chat_page,
    record_dialogs,
    start_chat,
    visitor_says,
)

pytestmark = [pytest.mark.browser, pytest.mark.integration]


async def test_every_screen_passes_axe_at_320_pixels_wide(stack: Stack, axe_page: Page, counsellor: TestUser) -> None:
    page = axe_page
    await open_chat_page(page, stack)
    await axe(page, "start (nl)")
    assert await page.evaluate("document.documentElement.scrollWidth") <= 320, "no sideways scrolling at 320 px"
    await page.get_by_role("combobox", name="Taal").select_option("en")
    await expect(page.locator("h1").first).to_have_text("Talk anonymously to a counsellor")
    await axe(page, "start (en)")
    await page.get_by_role("combobox", name="Language").select_option("nl")
    session = await start_chat(page)
    await counsellor_joins(stack, counsellor, session)
    await counsellor_says(counsellor, session["room_id"], "Hoi, fijn dat je er bent. Zie https://example.org/info")
    await expect(page.get_by_text("Hoi, fijn dat je er bent.", exact=False)).to_be_visible(timeout=20000)
    await visitor_says(page, "Hallo")
    await expect(page.locator(".kp-msg--me .kp-status")).to_have_text("Verstuurd", timeout=20000)
    await axe(page, "chat")
    assert await page.evaluate("document.documentElement.scrollWidth") <= 320
    await page.get_by_role("button", name="Gesprek stoppen").click()
    await expect(page.get_by_role("dialog")).to_be_visible()
    await axe(page, "end confirmation")
    await page.get_by_role("button", name="Ja, stoppen").click()
    await expect(page.locator("h1", has_text="Het gesprek is gestopt")).to_be_visible(timeout=10000)
    await axe(page, "ended")


async def focused(page: Page) -> str:
    return str(
        await page.evaluate(
            "(() => { const e = document.activeElement;"
            " return e ? (e.id || e.textContent || e.tagName).trim() : '' })()"
        )
    )


async def test_the_whole_flow_works_with_the_keyboard_alone(stack: Stack, page: Page) -> None:
    dialogs = record_dialogs(page)
    await open_chat_page(page, stack)
    await page.keyboard.press("Tab")
    assert await focused(page) == "kp-quick-exit", "quick exit is the first Tab stop"
    await page.keyboard.press("Tab")
    # The language choice (each language named in itself), then Start.
    assert await page.evaluate("document.activeElement.getAttribute('aria-label')") == "Taal"
    await page.keyboard.press("Tab")
    assert await focused(page) == "Start de chat"
    async with page.expect_response("**/api/v1/sessions"):
        await page.keyboard.press("Enter")
    await expect(page.locator(".kp-msg--bot").first).to_be_visible(timeout=30000)
    await expect(page.locator("#kp-input")).to_be_focused()
    # SECURITY.md A.6: no autocomplete, spellcheck or autocorrect; no notification permission.
    box = page.locator("#kp-input")
    for name, value in (("autocomplete", "off"), ("autocorrect", "off"), ("spellcheck", "false")):
        assert await box.get_attribute(name) == value, name
    assert await page.evaluate("Notification.permission") == "default"
    await page.keyboard.type("Hoi, ik typ alleen")
    await page.keyboard.press("Enter")
    await expect(page.locator(".kp-msg--me .kp-status")).to_have_text("Verstuurd", timeout=20000)
    await expect(page.locator("#kp-input")).to_be_focused()
    # Tab on to "End chat", confirm with the keyboard; the dialog starts on the safe choice.
    await page.keyboard.press("Tab")
    await page.keyboard.press("Tab")
    assert await focused(page) == "Gesprek stoppen"
    await page.keyboard.press("Enter")
    assert await focused(page) == "Nee, verder chatten"
    # The modal dialog keeps a quick exit of its own (the page behind it is inert).
    await page.keyboard.press("Shift+Tab")
    assert await focused(page) == "Snel weg"
    await page.keyboard.press("Tab")
    await page.keyboard.press("Escape")
    await expect(page.get_by_role("dialog")).to_be_hidden()
    await page.get_by_role("button", name="Gesprek stoppen").focus()
    await page.keyboard.press("Enter")
    await page.keyboard.press("Tab")
    assert await focused(page) == "Ja, stoppen"
    async with page.expect_response("**/api/v1/sessions/end") as ended:
        await page.keyboard.press("Enter")
    assert (await ended.value).status == 204
    await expect(page.locator("h1", has_text="Het gesprek is gestopt")).to_be_focused()
    assert await page.locator(".kp-log li").count() == 0
    assert dialogs == []
    assert await page.evaluate("Notification.permission") == "default"
