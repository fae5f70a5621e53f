"""Outside opening hours the start screen says so and when the chat opens again."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from playwright.async_api import Browser, expect

from tests.support.browser import Stack
from tests.support.widget import axe

pytestmark = [pytest.mark.browser, pytest.mark.integration]

SPECIAL_DAY = dt.date.today() + dt.timedelta(days=2)
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
CLOSED_DAYS: dict[str, list[str]] = {day: [] for day in WEEKDAYS}


@pytest.fixture(scope="module")
def extra_config() -> dict[str, Any]:
    return {"hours": {**CLOSED_DAYS, "apply_in_dev": True, "special_hours": [f"{SPECIAL_DAY.isoformat()} 10:00-16:00"]}}


async def test_start_screen_says_when_a_closed_chat_opens_again(stack: Stack, browser: Browser) -> None:
    context = await browser.new_context(viewport={"width": 320, "height": 640}, bypass_csp=True)
    page = await context.new_page()
    await page.goto(f"{stack.portal_url}/chat/")
    notice = page.locator(".kp-closed-now")
    await expect(notice).to_contain_text("De chat is nu dicht. Hij gaat weer open op")
    await expect(notice).to_contain_text("10:00")
    await expect(page.locator(".kp-hours")).to_be_hidden()  # no weekly hours to show
    await axe(page, "start, closed")
    await page.get_by_role("combobox", name="Taal").select_option("en")
    await expect(notice).to_contain_text("The chat is closed right now. It opens again on")
    await context.close()
