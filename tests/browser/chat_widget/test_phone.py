"""The chat on a phone (issue 15): /nl/chat at 360x640 is the chat, full height, under one
"Snel weg"; the first triage question shows once, with its buttons in view; nothing about the
Shift key on a touch screen; axe clean."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, Frame, Page, expect

from tests.support.browser import AXE, Stack
from tests.support.widget import RUN_AXE

pytestmark = [pytest.mark.browser, pytest.mark.integration]

PHONE = {"width": 360, "height": 640}


@pytest.fixture
async def phone(browser: Browser) -> AsyncIterator[Page]:
    # bypass_csp: axe is injected as a script, which the pages' CSP rightly refuses.
    context = await browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True, locale="nl-NL", bypass_csp=True)
    yield await context.new_page()
    await context.close()


async def chat_frame(page: Page) -> Frame:
    await expect(page.frame_locator("[data-chat-root] iframe").locator("#kp-app h1").first).to_be_visible()
    frame = next(f for f in page.frames if "/chat/" in f.url)
    return frame


async def axe_in(frame: Frame, screen: str) -> None:
    if not await frame.evaluate("typeof axe !== 'undefined'"):
        await frame.add_script_tag(path=str(AXE))
    assert await frame.evaluate(RUN_AXE) == [], screen


async def in_view(page: Page, frame: Frame, selector: str) -> list[bool]:
    """For each match in the chat's frame: wholly inside the phone's screen."""
    boxes = [await b.bounding_box() for b in await frame.locator(selector).all()]
    return [b is not None and b["y"] >= 0 and b["y"] + b["height"] <= PHONE["height"] for b in boxes]


async def test_on_a_phone_the_chat_page_is_the_chat_with_one_quick_exit(stack: Stack, phone: Page) -> None:
    await phone.goto(f"{stack.portal_url}/nl/chat")
    frame = await chat_frame(phone)
    exits = [phone.get_by_role("link", name="Snel weg"), frame.get_by_role("link", name="Snel weg")]
    assert sum([await e.count() for e in exits]) == 1, "one 'Snel weg', not two"
    assert await phone.get_by_role("link", name="Snel weg").is_visible()
    box = await phone.locator("[data-chat-root] iframe").bounding_box()
    assert box is not None
    # Above it: the quick exit, the header and the row of languages (issue 26), nothing more.
    assert box["y"] < 140 and abs(box["y"] + box["height"] - PHONE["height"]) <= 2, f"full height: {box}"
    assert box["width"] == PHONE["width"]
    # A touch screen has no Shift key: the start screen does not mention it.
    start = await frame.locator("#kp-app").inner_text()
    assert "Shift" not in start and "Tik op ‘Snel weg’" in start
    await axe_in(frame, "start on a phone")


async def test_on_a_phone_the_first_question_shows_once_with_its_buttons_in_view(stack: Stack, phone: Page) -> None:
    await phone.goto(f"{stack.portal_url}/nl/chat")
    frame = await chat_frame(phone)
    await frame.locator("button.kp-primary", has_text="Start").click()
    question = frame.locator(".kp-msg--bot", has=frame.locator(".kp-options")).first
    await expect(question).to_be_visible(timeout=30000)
    options = question.locator(".kp-option")
    labels = await options.all_inner_texts()
    assert len(labels) >= 3
    assert all(await in_view(phone, frame, ".kp-msg--bot .kp-options .kp-option")), "every button in view"
    assert await phone.evaluate("scrollY") == 0, "the page did not scroll"
    # Nothing twice: each answer only as its button, the question once in the whole chat.
    log = await frame.locator(".kp-log").inner_text()
    for label in labels:
        assert log.count(label) == 1, f"{label!r} appears {log.count(label)} times"
    body = await question.locator(".kp-body").inner_text()
    assert body.strip() and log.count(body.strip().splitlines()[-1]) == 1
    assert "Typ het nummer" not in log
    await axe_in(frame, "first question on a phone")
