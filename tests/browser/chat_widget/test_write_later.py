"""Issue 25's acceptance run for "write now, answered later" (docs/write-later.md), in Chromium
against the real stack (Synapse with MSC3814, the bots with return codes and ``async`` on, the
chat closed by its hours, a counsellor on Element's own crypto stack: js-sdk, strict mode):

A visitor finds the chat closed, takes "Schrijf nu, we antwoorden later" beside the emergency
numbers, answers the questions, writes two lines, makes a code and leaves, told when an answer
can be expected. The card waits as "written while closed"; a counsellor claims it, gets the two
lines from the bot (the room's earlier events are not theirs to read) and answers. A fresh
browser profile returns with code and word, reads its own lines and the answer, nothing
undecryptable, and the chat goes on both ways.

Covered elsewhere: the long-wait offer and that taking it keeps what was written
(widget/test/returncode/writelater.test.ts); an unanswered message ending after ``keep_days``
with only counts left, and the report's counts (tests/core/test_write_later.py).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.async_api import Page, expect

from bots.db.system_room import SystemRoomStore
from bots.texts import text
from tests.support.browser import Stack
from tests.support.element import ElementClient, counsellor_in_element
from tests.support.matrix_clients import ClientFactory
from tests.support.return_code import synapse_with_return_codes
from tests.support.synapse import SynapseProcess
from tests.support.widget import (
    answer_triage_with_buttons,
    case_of,
    come_back,
    make_code,
    open_chat_page,
    read_code,
    visitor_says,
)

pytestmark = [pytest.mark.browser, pytest.mark.integration]

UNDECRYPTABLE = "Dit bericht kan niet geopend worden."
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
OPENS = dt.date.today() + dt.timedelta(days=2)
LINES = ("Hallo, het is nacht en ik ben even alleen.", "Ik moet geld terugbetalen aan mensen die me bang maken.")


@pytest.fixture(scope="module")
def synapse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SynapseProcess]:
    yield from synapse_with_return_codes(tmp_path_factory)


@pytest.fixture(scope="module")
def extra_config() -> dict[str, Any]:
    return {
        "return_code": {"enabled": True},
        "async": {"enabled": True, "answer_within_hours": 24},
        "hours": {
            **{day: [] for day in WEEKDAYS},
            "apply_in_dev": True,
            "special_hours": [f"{OPENS.isoformat()} 10:00-16:00"],
        },
    }


async def test_a_message_written_while_closed_is_answered_and_read_on_return(
    stack: Stack, fresh: Any, clients: ClientFactory
) -> None:
    async with counsellor_in_element(clients, stack, "Anna") as counsellor:
        await closed_hours_run(stack, fresh, counsellor)


async def closed_hours_run(stack: Stack, fresh: Any, counsellor: ElementClient) -> None:
    page: Page = await fresh()
    await open_chat_page(page, stack)
    await expect(page.locator(".kp-closed-now")).to_contain_text("je kunt dan een bericht schrijven")
    await page.locator("button.kp-primary", has_text="Start").click()
    offer = page.get_by_role("button", name="Schrijf nu, we antwoorden later")
    await expect(offer).to_be_visible(timeout=30000)
    closed = page.locator(".kp-screen:visible")
    await expect(closed).to_contain_text("Ben je nu in gevaar? Bel 112.")  # beside the emergency numbers
    await expect(closed).to_contain_text("antwoordt waarschijnlijk vóór")
    async with page.expect_response("**/api/v1/sessions") as info:
        await offer.click()
    response = await info.value
    assert response.status == 201, await response.text()
    session = json.loads(await response.text())
    assert session["later"] is True
    room, visitor = session["room_id"], session["user_id"]
    await expect(page.get_by_text("Niemand leest dit voordat we weer open zijn.", exact=False)).to_be_visible(
        timeout=30000
    )
    await answer_triage_with_buttons(page)
    for line in LINES:
        await visitor_says(page, line)
        await expect(page.locator(".kp-msg--me", has_text=line)).to_be_visible(timeout=30000)
    code = await make_code(page)
    await page.get_by_role("button", name="Gesprek stoppen").click()
    async with page.expect_request("**/api/v1/sessions/end") as ended:
        await page.get_by_role("button", name="Ja, stoppen").click()
    assert json.loads((await ended.value).post_data or "{}") == {"reason": "later"}
    await expect(page.get_by_text("Je bericht is bewaard.", exact=False)).to_be_visible(timeout=30000)
    await page.context.close()
    case = await case_of(stack, visitor)
    assert case.state == "dormant" and case.close_reason == "async"

    # The card waits, marked as written while closed; a counsellor claims it and reads the lines.
    queue_room = await SystemRoomStore(stack.bots.db).get("queue")
    assert queue_room is not None
    waiting = text("nl", "queue.card.status.waiting_async_closed")

    def card_waits() -> bool:
        return any(
            waiting in str((e["content"].get("m.new_content") or e["content"]).get("body", ""))
            for e in counsellor.events.values()
            if e["room_id"] == queue_room and e["decrypted"]
        )

    await counsellor.wait_for(card_waits, within=30, what="the card saying it waits (written while closed)")
    await counsellor.say(queue_room, f"!claim {session['case']}")
    await counsellor.wait_for(lambda: room in counsellor.invites, what="the invite")
    await counsellor.join(room)

    def relayed() -> Any:
        return next((e for e in counsellor.messages(room) if LINES[1] in str(e["content"].get("body", ""))), None)

    relay = await counsellor.wait_for(relayed, within=30, what="the relay of the visitor's lines")
    assert relay["sender"] == stack.bots.user_id and LINES[0] in relay["content"]["body"]
    # The visitor's own earlier events stay out of the counsellor's reach (history: joined).
    assert not any(e["sender"] == visitor for e in counsellor.messages(room))
    # Written while the visitor is away: only the dehydrated device can receive its key.
    await counsellor.say(room, "Dank je voor je bericht. Je bent niet alleen; we helpen je.")

    back: Page = await fresh()
    await come_back(back, stack, code)
    for line in LINES:
        await expect(back.locator(".kp-msg--me", has_text=line)).to_be_visible(timeout=60000)
    await expect(back.get_by_text("Dank je voor je bericht. Je bent niet alleen; we helpen je.")).to_be_visible()
    await expect(back.get_by_text(UNDECRYPTABLE)).to_have_count(0)
    await read_code(back)  # the code rotated

    # The chat goes on, live, both ways.
    await visitor_says(back, "Ik ben terug. Kunnen we nu praten?")
    await counsellor.wait_for(
        lambda: any(
            e["content"].get("body") == "Ik ben terug. Kunnen we nu praten?" for e in counsellor.messages(room)
        ),
        what="the returned visitor's message",
    )
    await counsellor.say(room, "Ja, ik ben er.")
    await expect(back.get_by_text("Ja, ik ben er.")).to_be_visible(timeout=30000)
