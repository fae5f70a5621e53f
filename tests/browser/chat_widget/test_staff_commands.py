"""What a counsellor types as a staff command in the chat, or deletes, never stays on the
visitor's screen (SECURITY.md G.32, issue 13), through the real widget, bots and Synapse.

The bots take a ``!note`` typed in a case room out of the room (a redaction) and keep it under
the case's card; the widget must not show it even for the moment before that redaction
arrives. A MutationObserver in the page records the text of every node ever added to the page
(and every text change), so a line shown for a few milliseconds is caught too.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from nio import RoomRedactResponse
from playwright.async_api import Page, expect

from tests.support.browser import Stack
from tests.support.matrix_clients import ClientFactory
from tests.support.staff import Observer, add_counsellor
from tests.support.widget import (
    RECORD_TEXT,
    answer_triage_with_buttons,
    claim_and_join,
    ever_shown,
    open_chat_page,
    start_chat,
)

pytestmark = [pytest.mark.browser, pytest.mark.integration]


async def claimed_chat(page: Page, stack: Stack, clients: ClientFactory, name: str) -> tuple[Observer, dict[str, Any]]:
    counsellor = await add_counsellor(clients, stack.config, stack.bots.db, name)
    await open_chat_page(page, stack)
    session = await start_chat(page)
    await answer_triage_with_buttons(page)
    await claim_and_join(stack, counsellor, session)
    await expect(page.get_by_text("Er doet nu een hulpverlener mee.")).to_be_visible(timeout=30000)
    return counsellor, session


def redaction_of(counsellor: Observer, room: str, event_id: str, sender: str) -> bool:
    return any(
        e.get("redacts", e.get("content", {}).get("redacts")) == event_id
        for e in counsellor.events(room, sender, "m.room.redaction")
    )


async def test_a_note_typed_in_the_chat_never_shows_and_a_deleted_message_disappears(
    stack: Stack, page: Page, clients: ClientFactory
) -> None:
    counsellor, session = await claimed_chat(page, stack, clients, "cas")
    room = session["room_id"]
    await page.evaluate(RECORD_TEXT)

    note = await counsellor.say(room, f"!note {session['case']} alleen-voor-ons-7731")
    # From the moment it is sent until the bot's redaction has come and gone, look again and again.
    deadline = time.monotonic() + 30
    while not redaction_of(counsellor, room, note, stack.bots.user_id):
        assert "alleen-voor-ons-7731" not in await ever_shown(page), "the note showed in the chat"
        assert time.monotonic() < deadline, "the bot did not take the note out of the case room"
        await asyncio.gather(counsellor.sync(), asyncio.sleep(0.05))
    # A message sent after the redaction: once the widget shows it, it has had the redaction too.
    await counsellor.say(room, "Ik ben er nog")
    await expect(page.get_by_text("Ik ben er nog", exact=True)).to_be_visible(timeout=30000)
    await asyncio.sleep(1)  # and a little longer, for anything that would come late
    assert "alleen-voor-ons-7731" not in await ever_shown(page), "the note showed in the chat"

    # A counsellor deletes a message the visitor has already seen: it leaves the screen.
    oops = await counsellor.say(room, "Dit bericht was voor iemand anders")
    shown = page.get_by_text("Dit bericht was voor iemand anders", exact=True)
    await expect(shown).to_be_visible(timeout=30000)
    assert isinstance(await counsellor.user.client.room_redact(room, oops), RoomRedactResponse)
    await expect(shown).to_have_count(0, timeout=30000)
    assert "voor iemand anders" not in str(await page.evaluate("() => document.documentElement.textContent"))
    await expect(page.get_by_text("Ik ben er nog", exact=True)).to_be_visible()
