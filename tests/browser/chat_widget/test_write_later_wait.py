"""Issue 25's acceptance run for the long wait (docs/write-later.md), in Chromium against the
real stack: with nobody claiming, a live chat offers "Schrijf nu, we antwoorden later" after
``async.offer_after_minutes``; taking it keeps everything already written, the chat goes on until
the visitor leaves with a code, and the case waits as "written while waiting long" with all of
its lines for the counsellor who claims it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect

from bots.db.later import LaterStore
from bots.db.system_room import SystemRoomStore
from bots.texts import text
from tests.support.browser import Stack, fulfil_neutral
from tests.support.element import ElementClient, counsellor_in_element
from tests.support.matrix_clients import ClientFactory
from tests.support.return_code import synapse_with_return_codes
from tests.support.synapse import SynapseProcess
from tests.support.widget import (
    answer_triage_with_buttons,
    case_of,
    open_chat_page,
    read_code,
    start_chat,
    visitor_says,
)

pytestmark = [pytest.mark.browser, pytest.mark.integration]

# Seconds, not minutes, so the test does not wait a quarter of an hour.
OFFER_AFTER_MINUTES = 0.05


@pytest.fixture(scope="module")
def synapse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SynapseProcess]:
    yield from synapse_with_return_codes(tmp_path_factory)


@pytest.fixture(scope="module")
def extra_config() -> dict[str, Any]:
    return {"return_code": {"enabled": True}, "async": {"enabled": True, "offer_after_minutes": OFFER_AFTER_MINUTES}}


async def test_a_long_wait_offers_the_switch_and_taking_it_keeps_everything_written(
    stack: Stack, browser: Browser, clients: ClientFactory
) -> None:
    async with counsellor_in_element(clients, stack, "Anna") as counsellor:
        await long_wait_run(stack, browser, counsellor)


async def long_wait_run(stack: Stack, browser: Browser, counsellor: ElementClient) -> None:
    context = await browser.new_context(viewport={"width": 400, "height": 760}, locale="nl-NL")
    await context.route("https://neutral.test/**", fulfil_neutral)
    page: Page = await context.new_page()
    await open_chat_page(page, stack)
    session = await start_chat(page)
    assert "later" not in session  # a live chat
    await answer_triage_with_buttons(page)
    await visitor_says(page, "Ik wacht al een tijd.")
    await expect(page.locator(".kp-msg--me", has_text="Ik wacht al een tijd.")).to_be_visible(timeout=30000)

    offer = page.locator(".kp-later-offer")
    await expect(offer).to_be_visible(timeout=30000)
    await expect(offer).to_contain_text("Alles wat je al schreef blijft staan.")
    await offer.get_by_role("button", name="Schrijf nu, we antwoorden later").click()
    dialog = page.locator("dialog.kp-later")
    await expect(dialog).to_contain_text("kan dit gesprek lezen")  # the code's honest explanation
    await dialog.get_by_role("button", name="Ja, maak een code").click()
    await dialog.get_by_label("Kies een geheim woord").fill("zonnebloem")
    await dialog.get_by_role("button", name="Maak mijn code").click()
    await read_code(page)
    # Everything written is still there, and the chat goes on.
    await expect(page.locator(".kp-msg--me", has_text="Ik wacht al een tijd.")).to_be_visible()
    await visitor_says(page, "Ik schrijf nog even wat ik kwijt wil.")
    await expect(page.locator(".kp-msg--me", has_text="Ik schrijf nog even wat ik kwijt wil.")).to_be_visible()
    await page.get_by_role("button", name="Gesprek stoppen").click()
    async with page.expect_request("**/api/v1/sessions/end") as ended:
        await page.get_by_role("button", name="Ja, stoppen").click()
    assert json.loads((await ended.value).post_data or "{}") == {"reason": "later"}
    await expect(page.get_by_text("Je bericht is bewaard.", exact=False)).to_be_visible(timeout=30000)
    await context.close()

    case = await case_of(stack, session["user_id"])
    assert case.state == "dormant" and case.close_reason == "async"
    later = await LaterStore(stack.bots.db).get(case.id)
    assert later is not None and later.reason == "long_wait"
    queue_room = await SystemRoomStore(stack.bots.db).get("queue")
    assert queue_room is not None
    waiting = text("nl", "queue.card.status.waiting_async_long_wait")

    def card_waits() -> bool:
        return any(
            waiting in str((e["content"].get("m.new_content") or e["content"]).get("body", ""))
            for e in counsellor.events.values()
            if e["room_id"] == queue_room and e["decrypted"]
        )

    await counsellor.wait_for(card_waits, within=30, what="the card saying it waits (written while waiting long)")
    room = session["room_id"]
    await counsellor.say(queue_room, f"!claim {session['case']}")
    await counsellor.wait_for(lambda: room in counsellor.invites, what="the invite")
    await counsellor.join(room)

    def relayed() -> Any:
        wanted = "Ik schrijf nog even wat ik kwijt wil."
        return next((e for e in counsellor.messages(room) if wanted in str(e["content"].get("body", ""))), None)

    relay = await counsellor.wait_for(relayed, within=30, what="the relay of every line")
    assert relay["sender"] == stack.bots.user_id and "Ik wacht al een tijd." in relay["content"]["body"]
