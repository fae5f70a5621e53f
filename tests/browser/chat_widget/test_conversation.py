"""A visitor chats with a cross-signed counsellor through the real widget, bots and Synapse."""

from __future__ import annotations

import contextlib
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Dialog, Page, expect
from playwright.async_api import Error as PlaywrightError

from bots.texts import text
from tests.support.browser import Stack
from tests.support.matrix_clients import TestUser
from tests.support.widget import (
    chat_texts,
    counsellor_joins,
    counsellor_reads,
    counsellor_says,
    open_chat_page,
    start_chat,
    visitor_says,
)

pytestmark = [pytest.mark.browser, pytest.mark.integration]

ROUNDS = 20


async def test_visitor_and_counsellor_exchange_twenty_messages_each_way(
    stack: Stack, page: Page, counsellor: TestUser
) -> None:
    requests: list[str] = []
    page.context.on("request", lambda r: requests.append(r.url))
    violations: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    await open_chat_page(page, stack)
    session = await start_chat(page)
    await counsellor_joins(stack, counsellor, session)
    await expect(page.get_by_text("Er doet nu een hulpverlener mee.")).to_be_visible(timeout=20000)

    await counsellor.client.room_typing(session["room_id"], typing_state=True, timeout=10000)
    await expect(page.locator(".kp-typing")).to_have_text("Hulpverlener is aan het typen…", timeout=10000)
    for i in range(ROUNDS):
        await counsellor_says(counsellor, session["room_id"], f"counsellor message {i}")
    for i in range(ROUNDS):
        await expect(page.get_by_text(f"counsellor message {i}", exact=True)).to_be_visible(timeout=20000)
    await expect(page.get_by_text("Dit bericht kan niet geopend worden.")).to_have_count(0)

    for i in range(ROUNDS):
        await visitor_says(page, f"visitor message {i}")
    await expect(page.locator(".kp-msg--me .kp-status", has_text="Verstuurd")).to_have_count(ROUNDS, timeout=30000)
    received = await counsellor_reads(counsellor, session, ROUNDS, receipt=True)
    assert received == [f"visitor message {i}" for i in range(ROUNDS)]
    await expect(page.locator(".kp-msg--me .kp-status").last).to_have_text("Gelezen", timeout=10000)
    assert await chat_texts(page).count() >= 2 * ROUNDS + 1

    # Nobody but the Keerpunt origin and the homeserver was asked for anything (SECURITY.md D.10),
    # and the page's CSP never had to block anything.
    allowed = {origin(stack.portal_url), origin(stack.homeserver)}
    assert {origin(u) for u in requests} <= allowed, sorted({origin(u) for u in requests} - allowed)
    assert violations == []


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


async def test_a_dropped_connection_is_shown_and_nothing_written_meanwhile_is_lost(
    stack: Stack, page: Page, counsellor: TestUser
) -> None:
    await open_chat_page(page, stack)
    session = await start_chat(page)
    await counsellor_joins(stack, counsellor, session)
    await expect(page.get_by_text("Er doet nu een hulpverlener mee.")).to_be_visible(timeout=20000)
    await page.context.set_offline(True)
    await expect(page.locator(".kp-banner")).to_have_text(
        "De verbinding is weg. We proberen opnieuw te verbinden…", timeout=60000
    )
    await visitor_says(page, "geschreven zonder verbinding")
    await expect(page.locator(".kp-msg--me .kp-status").last).not_to_have_text("Verstuurd", timeout=3000)
    await page.context.set_offline(False)
    await expect(page.locator(".kp-banner")).to_have_text("De verbinding is terug.", timeout=60000)
    await expect(page.locator(".kp-msg--me .kp-status").last).to_have_text("Verstuurd", timeout=60000)
    assert await counsellor_reads(counsellor, session, 1) == ["geschreven zonder verbinding"]
    await counsellor_says(counsellor, session["room_id"], "ik zie je bericht")
    await expect(page.get_by_text("ik zie je bericht")).to_be_visible(timeout=20000)


async def test_an_english_visitor_is_greeted_in_english_and_warned_before_reloading(stack: Stack, page: Page) -> None:
    await open_chat_page(page, stack, "en")
    await start_chat(page)
    await expect(page.locator(".kp-msg--bot .kp-body").first).to_have_text(text("en", "greeting.welcome"))
    await page.locator("#kp-input").fill("a draft")
    dialogs: list[str] = []

    async def keep(dialog: Dialog) -> None:
        dialogs.append(dialog.type)
        await dialog.dismiss()  # "stay on this page"

    page.on("dialog", keep)
    with contextlib.suppress(PlaywrightError):
        await page.reload(timeout=3000)
    assert dialogs == ["beforeunload"]
    await expect(page.locator(".kp-msg--bot").first).to_be_visible()
