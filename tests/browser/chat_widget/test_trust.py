"""DESIGN.md rule 7: a send can succeed with nobody able to read it, so the widget checks that
some device in the room is signed by its owner, and tells the visitor (and sends nothing)
when none is."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from tests.support.browser import Stack
from tests.support.matrix_clients import ClientFactory
from tests.support.visitor import join
from tests.support.widget import counsellor_joins, counsellor_reads, open_chat_page, start_chat, visitor_says

pytestmark = [pytest.mark.browser, pytest.mark.integration]

UNTRUSTED = "Je bericht is niet verstuurd. Er is nu niemand in het gesprek met een beveiligd apparaat."


async def test_without_a_signed_recipient_nothing_is_sent_and_the_visitor_is_told(
    stack: Stack, page: Page, clients: ClientFactory
) -> None:
    await open_chat_page(page, stack)
    session = await start_chat(page)
    room = session["room_id"]
    # Only an unsigned device is left in the room: the bot leaves, an unsigned "counsellor" joins.
    unsigned = await clients.user("unsigned", cross_sign=False)
    signed = await clients.user("counsellor", cross_sign=True)
    await stack.invite(room, signed.user_id)  # invited only: gets no key for what is sent now
    await counsellor_joins(stack, unsigned, session)
    status, body = await stack.matrix("POST", f"/_matrix/client/v3/rooms/{room}/leave", stack.bot_token, {})
    assert status == 200, body
    await expect(page.get_by_text("Er doet nu een hulpverlener mee.")).to_be_visible(timeout=20000)

    await visitor_says(page, "lees jij dit?")
    await expect(page.locator(".kp-banner")).to_contain_text(UNTRUSTED, timeout=20000)
    retry = page.locator(".kp-msg--me .kp-retry")
    await expect(retry).to_have_text("Niet verstuurd. Opnieuw proberen")

    # A cross-signed counsellor joins: the same message (same transaction) goes out once.
    await join(signed, room, unsigned.user_id)
    await expect(page.get_by_text("Er doet nu een hulpverlener mee.")).to_have_count(2, timeout=20000)
    await retry.click()
    await expect(page.locator(".kp-msg--me .kp-status")).to_have_text("Verstuurd", timeout=20000)
    assert await counsellor_reads(signed, session, 1) == ["lees jij dit?"]
