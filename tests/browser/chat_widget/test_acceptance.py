"""Issue 5's acceptance run, end to end: the visitor answers triage with buttons, a cross-signed
counsellor claims the case in the queue room and joins, 20 messages each way decrypt on both
sides, the counsellor closes; and a quick exit tells the counsellor the visitor left in a hurry.

Both tests share the module's stack; each closes its own case, so whichever runs first finds the
queue empty (the first test's visitor must be number 1)."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from bots.texts import text
from tests.support.browser import NEUTRAL_URL, Stack
from tests.support.matrix_clients import ClientFactory
from tests.support.staff import add_counsellor
from tests.support.waiting import wait_until
from tests.support.widget import (
    answer_triage_with_buttons,
    claim_and_join,
    open_chat_page,
    record_dialogs,
    start_chat,
    visitor_says,
    whoami_status,
)

pytestmark = [pytest.mark.browser, pytest.mark.integration]

ROUNDS = 20


async def test_triage_by_buttons_claim_twenty_messages_each_way_and_close(
    stack: Stack, page: Page, clients: ClientFactory
) -> None:
    counsellor = await add_counsellor(clients, stack.config, stack.bots.db, "anna")
    await open_chat_page(page, stack)
    session = await start_chat(page)
    await answer_triage_with_buttons(page)
    await expect(page.locator(".kp-queue")).to_contain_text("Je bent nummer 1 in de rij.", timeout=30000)

    await claim_and_join(stack, counsellor, session)
    await expect(page.get_by_text("Er doet nu een hulpverlener mee.")).to_be_visible(timeout=30000)
    await expect(page.locator(".kp-queue")).to_have_text("")
    room, visitor = session["room_id"], session["user_id"]

    for i in range(ROUNDS):
        await counsellor.say(room, f"counsellor message {i}")
    for i in range(ROUNDS):
        await expect(page.get_by_text(f"counsellor message {i}", exact=True)).to_be_visible(timeout=30000)
    for i in range(ROUNDS):
        await visitor_says(page, f"visitor message {i}")
    expected = [f"visitor message {i}" for i in range(ROUNDS)]
    await counsellor.wait_for(
        lambda: counsellor.bodies(room, visitor)[-ROUNDS:] == expected, within=60, what="20 visitor messages"
    )
    assert counsellor.undecryptable == {}, "every visitor message decrypts for the counsellor"
    await expect(page.get_by_text("Dit bericht kan niet geopend worden.")).to_have_count(0)

    await counsellor.say(room, "!close helped")
    goodbye = text("nl", "queue.visitor.closed")
    await expect(page.locator(".kp-msg--bot .kp-body", has_text=goodbye.splitlines()[0])).to_be_visible(timeout=30000)
    await expect(page.locator("#kp-input")).to_be_disabled()
    # The visitor ends too: the account is erased and the chat wiped.
    await page.get_by_role("button", name="Gesprek stoppen").click()
    await page.get_by_role("button", name="Ja, stoppen").click()
    await expect(page.locator("h1", has_text="Het gesprek is gestopt")).to_be_visible(timeout=20000)
    await wait_until(lambda: _dead(stack, session["access_token"]), within=30, what="the token to be revoked")


async def test_after_a_quick_exit_the_counsellor_is_told_the_visitor_left_in_a_hurry(
    stack: Stack, page: Page, clients: ClientFactory
) -> None:
    dialogs = record_dialogs(page)
    counsellor = await add_counsellor(clients, stack.config, stack.bots.db, "bram")
    await open_chat_page(page, stack)
    session = await start_chat(page)
    await answer_triage_with_buttons(page)
    await claim_and_join(stack, counsellor, session)
    await counsellor.say(session["room_id"], "Hoi, ik ben Bram")
    await expect(page.get_by_text("Hoi, ik ben Bram")).to_be_visible(timeout=30000)
    await visitor_says(page, "er komt iemand aan")
    await expect(page.locator(".kp-msg--me .kp-status").last).to_have_text("Verstuurd", timeout=20000)
    await page.keyboard.press("Shift")
    await page.keyboard.press("Shift")
    await page.keyboard.press("Shift")
    await page.wait_for_url(NEUTRAL_URL, timeout=10000)
    notice = text("nl", "queue.staff.visitor_quick_exit")
    await counsellor.wait_message(
        session["room_id"], stack.bots.user_id, lambda e: e["content"]["body"] == notice, what="the quick-exit notice"
    )
    await counsellor.wait_for(
        lambda: "er komt iemand aan" in counsellor.bodies(session["room_id"], session["user_id"]),
        what="the visitor's last message",
    )
    await wait_until(lambda: _dead(stack, session["access_token"]), within=30, what="the token to be revoked")
    assert dialogs == []


async def _dead(stack: Stack, token: str) -> bool:
    return await whoami_status(stack, token) == 401
