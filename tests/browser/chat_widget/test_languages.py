"""Issue 26's acceptance with the real widget in Chromium, the bots and Synapse:

- a whole chat in Arabic on a 360x640 phone, right to left: the start screen, the triage's
  buttons (in view), a counsellor's claim, messages both ways, the close, the end and the
  visitor's verdict; the quick exit first in the tab order; axe clean on each screen;
- a Polish visitor: the card in the queue room shows ``pl``; the reminder names the Polish-speaking
  counsellor on shift first; with nobody on shift who speaks Polish, the visitor reads the offer of
  Dutch or English in Polish.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect

from bots.db.staff import StaffStore
from bots.db.system_room import SystemRoomStore
from bots.texts import text
from bots.triage.definition import load_definition
from tests.support.browser import Stack
from tests.support.matrix_clients import ClientFactory
from tests.support.staff import Observer, add_counsellor
from tests.support.widget import axe, claim_and_join, visitor_says

pytestmark = [pytest.mark.browser, pytest.mark.integration]

PHONE = {"width": 360, "height": 640}
LOCALES = Path(__file__).resolve().parents[3] / "widget" / "src" / "app" / "locales"
AR = json.loads((LOCALES / "ar.json").read_text("utf-8"))
PL = json.loads((LOCALES / "pl.json").read_text("utf-8"))
CALM = {"audience": "self", "danger": "no", "topic": "debts", "region": "zuid-holland"}
DEFINITION = load_definition()


@pytest.fixture(scope="module")
def extra_config() -> dict[str, Any]:
    # Reminders after a few seconds, so the Polish one arrives while the test waits.
    return {"queue": {"reminder_minutes": 0.1}}


@pytest.fixture
async def phone(browser: Browser) -> AsyncIterator[Page]:
    # bypass_csp: axe is injected as a script, which the pages' CSP rightly refuses.
    context = await browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True, locale="ar", bypass_csp=True)
    yield await context.new_page()
    await context.close()


async def start(page: Page, stack: Stack, language: str, label: str) -> dict[str, Any]:
    await page.goto(f"{stack.portal_url}/chat/?lang={language}")
    await expect(page.locator("#kp-app h1").first).to_be_visible()
    async with page.expect_response("**/api/v1/sessions") as info:
        await page.locator("button.kp-primary", has_text=label).click()
    response = await info.value
    assert response.status == 201, await response.text()
    return dict(json.loads(await response.text()))


async def in_view(page: Page, selector: str) -> list[bool]:
    boxes = [await b.bounding_box() for b in await page.locator(selector).all()]
    return [
        b is not None and b["y"] >= 0 and b["y"] + b["height"] <= PHONE["height"] and b["x"] >= 0
        for b in boxes
        if b is not None and b["width"] > 0
    ]


async def answer_triage(page: Page, language: str, *, check_view: bool = False) -> None:
    for question_id, option_id in CALM.items():
        question = DEFINITION.question(question_id)
        assert question is not None
        option = question.option(option_id)
        assert option is not None
        prompt = page.locator(".kp-msg--bot", has_text=question.text[language]).last
        button = prompt.locator(".kp-options").get_by_role("button", name=option.label[language], exact=True)
        await expect(button).to_be_enabled(timeout=30000)
        if check_view:
            await button.scroll_into_view_if_needed()
            assert all(await in_view(page, ".kp-msg--bot .kp-options:visible .kp-option:enabled")), question_id
        await button.click()
        await expect(button).to_be_disabled()


async def test_a_whole_chat_in_arabic_on_a_phone(stack: Stack, phone: Page, clients: ClientFactory) -> None:
    page = phone
    await page.goto(f"{stack.portal_url}/chat/?lang=ar")
    await expect(page.locator("#kp-app h1").first).to_have_text(AR["start_heading"])
    assert await page.evaluate("[document.documentElement.lang, document.documentElement.dir]") == ["ar", "rtl"]
    # The quick exit is the first Tab stop, in Arabic, and in the reading direction's first corner.
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.textContent.trim()") == AR["quick_exit"]
    exit_box = await page.locator("#kp-quick-exit").bounding_box()
    assert exit_box is not None and exit_box["y"] < 60
    start_box = await page.locator("button.kp-primary").first.bounding_box()
    assert start_box is not None and start_box["y"] + start_box["height"] <= PHONE["height"]
    await axe(page, "start (ar)")

    session = await start(page, stack, "ar", AR["start_button"])
    greeting = text("ar", "greeting.welcome").splitlines()[0]
    await expect(page.locator(".kp-msg--bot .kp-body", has_text=greeting)).to_be_visible(timeout=30000)
    await answer_triage(page, "ar", check_view=True)
    await expect(page.locator(".kp-msg--bot .kp-body", has_text=text("ar", "triage.done"))).to_be_visible(timeout=30000)
    await axe(page, "after the triage (ar)")

    amal: Observer = await add_counsellor(clients, stack.config, stack.bots.db, "amal")
    await StaffStore(stack.bots.db).set_languages(amal.user_id, ("nl", "en", "ar"))
    await claim_and_join(stack, amal, session)
    await expect(page.get_by_text(AR["counsellor_joined"])).to_be_visible(timeout=30000)
    room = session["room_id"]
    # Mixed direction: a Dutch place name and a number inside Arabic text.
    await amal.say(room, "مرحبًا، أنا هنا. هل تسكن في Rotterdam؟ رقم الطوارئ 112.")
    await expect(page.locator(".kp-msg .kp-body", has_text="هل تسكن في Rotterdam")).to_be_visible(timeout=30000)
    # A line in Dutch keeps its own direction inside the right-to-left chat.
    await amal.say(room, "Veilig Thuis: 0800-2000, dag en nacht.")
    dutch = page.locator(".kp-msg .kp-body", has_text="Veilig Thuis: 0800-2000")
    await expect(dutch).to_be_visible(timeout=30000)
    assert await dutch.evaluate("(e) => getComputedStyle(e).direction") == "ltr"
    arabic = page.locator(".kp-msg .kp-body", has_text="هل تسكن في Rotterdam")
    assert await arabic.evaluate("(e) => getComputedStyle(e).direction") == "rtl"
    await visitor_says(page, "نعم، في Rotterdam. عندي ديون.")
    await amal.wait_message(room, session["user_id"], lambda e: "عندي ديون" in e["content"].get("body", ""), within=60)
    await expect(page.locator(".kp-msg--me .kp-status").last).to_have_text(AR["status_sent"], timeout=30000)
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    await axe(page, "the chat (ar)")

    await amal.say(room, "!close helped debts police")
    goodbye = text("ar", "queue.visitor.closed").splitlines()[0]
    await expect(page.locator(".kp-msg--bot .kp-body", has_text=goodbye)).to_be_visible(timeout=30000)
    end = page.get_by_role("button", name=AR["end_button"])
    assert all(await in_view(page, f"button:has-text('{AR['end_button']}')"))
    await end.click()
    await page.get_by_role("button", name=AR["end_confirm_yes"]).click()
    await expect(page.locator("#kp-feedback-h")).to_have_text(AR["feedback_heading"], timeout=20000)
    await axe(page, "the verdict (ar)")
    await page.locator("form.kp-feedback input[type=radio]").first.check()
    async with page.expect_response("**/api/v1/feedback") as sent:
        await page.get_by_role("button", name=AR["feedback_send"]).click()
    assert (await sent.value).status == 204
    await expect(page.get_by_text(AR["feedback_thanks"])).to_be_visible()
    assert await page.evaluate("document.documentElement.dir") == "rtl"


async def test_a_polish_visitor_on_the_card_in_the_reminder_and_offered_dutch_or_english(
    stack: Stack, browser: Browser, clients: ClientFactory
) -> None:
    anna: Observer = await add_counsellor(clients, stack.config, stack.bots.db, "anna")
    zofia: Observer = await add_counsellor(clients, stack.config, stack.bots.db, "zofia")
    staff = StaffStore(stack.bots.db)
    await staff.set_languages(zofia.user_id, ("nl", "en", "pl"))
    context = await browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True, locale="pl")
    try:
        page = await context.new_page()
        session = await start(page, stack, "pl", PL["start_button"])
        await answer_triage(page, "pl")
        queue_room = await SystemRoomStore(stack.bots.db).get("queue")
        assert queue_room is not None
        card = await anna.wait_for(lambda: anna.card(queue_room, session["case"]), what="the card", within=30)
        body = anna.latest_card_body(queue_room, card["event_id"])
        assert text("nl", "queue.card.line", name="Taal", value="pl – Pools") in body.splitlines(), body

        def reminder() -> str | None:
            found = [r for r in anna.replies_to(queue_room, card["event_id"]) if r.startswith("⏰")]
            return found[0] if found else None

        ping = await anna.wait_for(reminder, within=60, what="the reminder")
        assert ping.index(zofia.user_id) < ping.index(anna.user_id), ping
        assert zofia.user_id in ping.split("\n", 1)[1]
        # Nobody on shift speaks Polish now: the next Polish visitor reads the offer in Polish.
        await staff.start_break(zofia.user_id, 0)
        second = await context.new_page()
        await start(second, stack, "pl", PL["start_button"])
        await answer_triage(second, "pl")
        offer = text("pl", "queue.visitor.other_language")
        await expect(second.locator(".kp-msg--bot .kp-body", has_text=offer.split(".")[0])).to_be_visible(timeout=60000)
    finally:
        await context.close()
