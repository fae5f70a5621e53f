"""Issue 7 from the visitor's side, end to end: the visitor in Chromium goes through triage, a
cross-signed counsellor claims, asks for a handover to a partner from the directory, the
visitor first wants to think about it and then says yes with the buttons; the widget joins the
handover room the bot made and shows it beside the case room with the introduction and the
summary decrypted; the partner and the visitor talk there, and the case room goes on. An
invite from anyone but the bot is never joined or shown."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from playwright.async_api import Page, expect

from bots.texts import text
from tests.support.browser import Stack
from tests.support.matrix_clients import ClientFactory
from tests.support.staff import Observer, add_counsellor
from tests.support.widget import (
    answer_triage_with_buttons,
    axe,
    claim_and_join,
    open_chat_page,
    start_chat,
    storage_of,
    visitor_says,
)

pytestmark = [pytest.mark.browser, pytest.mark.integration]

PARTNER = "Jeugdzorg Utrecht"
SUMMARY = "Jongen van 16 moet pakketjes rondbrengen en durft niet te stoppen."


@pytest.fixture(scope="module")
async def partner(module_clients: ClientFactory) -> Observer:
    """A cross-signed intake member of the partner (what Element does for real partner staff)."""
    return Observer(await module_clients.user("intake-zorg", cross_sign=True))


@pytest.fixture(scope="module")
def extra_config(partner: Observer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The bots read a partner directory with that intake member (``handover.partners_file``)."""
    path = tmp_path_factory.mktemp("partners") / "partners.yaml"
    directory = {
        "partners": [
            {
                "id": "jeugdzorg-utrecht",
                "name": PARTNER,
                "kind": "youth-care",
                "regions": ["utrecht"],
                "description": {"nl": "Hulp voor jongeren in Utrecht.", "en": "Help for young people in Utrecht."},
                "intake": [partner.user_id],
            }
        ]
    }
    path.write_text(yaml.safe_dump(directory, allow_unicode=True))
    return {"handover": {"partners_file": str(path)}}


async def foreign_invite(clients: ClientFactory, visitor: str) -> tuple[Observer, str]:
    """Someone on the server who is not the bot makes a room and invites the visitor to it.

    Keerpunt's Synapse module refuses a visitor's invite by anyone but a server admin
    (tests/e2e/test_visitor_limits.py), so the stranger here is an admin that is not the bot:
    the one kind of account that still could, and that the widget must still ignore.
    """
    stranger = Observer(await clients.user("stranger", admin=True, cross_sign=True))
    created = await stranger.user.client.room_create(
        invite=[visitor],
        initial_state=[
            {"type": "m.room.encryption", "state_key": "", "content": {"algorithm": "m.megolm.v1.aes-sha2"}}
        ],
    )
    room = str(getattr(created, "room_id", ""))
    assert room, created
    await stranger.wait_for(lambda: room in stranger.user.client.rooms, what="the stranger's room")
    return stranger, room


async def test_visitor_says_yes_and_talks_with_the_partner_in_a_second_conversation(
    stack: Stack,
    axe_page: Page,
    clients: ClientFactory,
    partner: Observer,
) -> None:
    page = axe_page  # 320 px wide; CSP bypassed only so that axe can be injected
    bot = stack.bots.user_id
    counsellor = await add_counsellor(clients, stack.config, stack.bots.db, "anna")
    await open_chat_page(page, stack)
    session = await start_chat(page)
    case_room, visitor = session["room_id"], session["user_id"]
    await answer_triage_with_buttons(page)
    await claim_and_join(stack, counsellor, session)
    await expect(page.get_by_text("Er doet nu een hulpverlener mee.")).to_be_visible(timeout=30000)

    # A foreign invite arrives first: the widget must not take it for the handover room.
    stranger, foreign = await foreign_invite(clients, visitor)

    await counsellor.say(case_room, f"!handover jeugdzorg-utrecht {SUMMARY}")
    question = page.locator(".kp-msg--bot", has=page.locator(".kp-options")).filter(has_text=SUMMARY).last
    await expect(question).to_contain_text(PARTNER, timeout=30000)
    later = question.get_by_role("button", name=text("nl", "handover.options.later"), exact=True)
    yes = question.get_by_role("button", name=text("nl", "handover.options.yes"), exact=True)
    await later.click()
    # "Later" keeps the question open: the bot says the buttons above still work, and they do.
    await expect(page.get_by_text(text("nl", "handover.visitor.later"))).to_be_visible(timeout=30000)
    await expect(yes).to_be_enabled()
    await yes.click()
    await expect(page.locator(".kp-msg--me", has_text=text("nl", "handover.options.yes"))).to_be_visible()
    consented = text("nl", "handover.visitor.consented", partner=PARTNER)
    await expect(page.get_by_text(consented)).to_be_visible(timeout=30000)

    # The widget joins the bot's room by itself and shows it at once, beside the case room.
    tabs = page.get_by_role("tablist", name="Je gesprekken")
    await expect(tabs).to_be_visible(timeout=30000)
    handover_tab = tabs.get_by_role("tab", name=PARTNER)
    case_tab = tabs.get_by_role("tab", name="Keerpunt")
    await expect(handover_tab).to_have_attribute("aria-selected", "true", timeout=30000)
    await expect(case_tab).to_have_attribute("aria-selected", "false")
    handover = page.get_by_role("tabpanel", name=PARTNER)
    await expect(handover.get_by_text("Dit is een nieuw gesprek.", exact=False)).to_be_visible()
    intro = text("nl", "handover.visitor.intro", partner=PARTNER)
    await expect(handover.locator(".kp-msg--bot .kp-body", has_text=intro.splitlines()[0])).to_be_visible(timeout=30000)
    summary = text("nl", "handover.visitor.summary", summary=SUMMARY)
    await expect(handover.locator(".kp-msg--bot .kp-body", has_text=SUMMARY)).to_have_text(summary, timeout=30000)

    # The partner joins and writes; the visitor reads it there and answers there.
    room = await partner_joins(partner, bot)
    await partner.say(room, "Hoi, ik ben Sanne van Jeugdzorg. Fijn dat je er bent.")
    await expect(handover.get_by_text("Hoi, ik ben Sanne van Jeugdzorg.", exact=False)).to_be_visible(timeout=30000)
    await visitor_says(page, "Hoi Sanne")
    await partner.wait_for(lambda: "Hoi Sanne" in partner.bodies(room, visitor), within=30, what="the visitor")
    assert partner.undecryptable == {}, "the partner decrypts everything"
    await expect(page.get_by_text("Dit bericht kan niet geopend worden.")).to_have_count(0)

    # The case room goes on: a counsellor message there is marked unread until the visitor looks.
    await counsellor.say(case_room, "Ik blijf er ook bij.")
    await expect(case_tab).to_contain_text("1 nieuw", timeout=30000)
    await axe(page, "two conversations")
    assert await page.evaluate("document.documentElement.scrollWidth") <= 320, "no sideways scrolling at 320 px"
    await handover_tab.focus()
    await page.keyboard.press("ArrowLeft")
    await expect(case_tab).to_be_focused()
    await expect(case_tab).to_have_attribute("aria-selected", "true")
    await expect(case_tab).not_to_contain_text("nieuw")
    await expect(page.get_by_role("tabpanel", name="Keerpunt").get_by_text("Ik blijf er ook bij.")).to_be_visible()
    await visitor_says(page, "Dank je")
    await counsellor.wait_for(lambda: "Dank je" in counsellor.bodies(case_room, visitor), what="the case-room reply")
    assert "Dank je" not in partner.bodies(room, visitor), "a case-room message never reaches the partner"

    # The stranger's invite was never taken up, and nothing of it is shown.
    await stranger.say(foreign, "kom naar mij")
    status, member = await stack.matrix(
        "GET",
        f"/_matrix/client/v3/rooms/{foreign}/state/m.room.member/{visitor}",
        stranger.user.registration.access_token,
    )
    assert status == 200 and member["membership"] == "invite", member
    await expect(tabs.get_by_role("tab")).to_have_count(2)
    await expect(page.get_by_text("kom naar mij")).to_have_count(0)

    # Ending the chat wipes both conversations; nothing was ever stored.
    await page.get_by_role("button", name="Gesprek stoppen").click()
    await page.get_by_role("button", name="Ja, stoppen").click()
    await expect(page.locator("h1", has_text="Het gesprek is gestopt")).to_be_visible(timeout=20000)
    assert await page.locator(".kp-log li, .kp-tab").count() == 0
    assert await storage_of(page) == {"local": 0, "session": 0, "idb": [], "caches": [], "cookie": ""}


async def partner_joins(partner: Observer, bot: str) -> str:
    """The partner's intake member joins the handover room the bot invited them to."""
    room: str = await partner.wait_for(lambda: next(iter(partner.invites), None), within=30, what="the invite")
    await partner.join(room)
    await partner.wait_message(
        room, bot, lambda e: e["content"].get("nl.keerpunt.message") == "handover.summary", what="the summary"
    )
    return room
