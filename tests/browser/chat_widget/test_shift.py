"""A counsellor's shift as the visitor meets it (issue 24), with the real widget in Chromium, the
bots and Synapse:

- ``!text noodnummers``: the visitor reads the vetted text in their language, from Keerpunt; the
  command never shows; an unknown or untranslated text is refused to the counsellor only;
- ``!watch``: the visitor reads that a colleague reads along and reads the supervisor's line; the
  supervisor (Element's crypto stack, strict) reads nothing from before joining; the whisper in the
  card's thread reaches the counsellor and nothing of it the widget; ``!unwatch`` is told too;
- the wrap-up at ``!close`` and the visitor's verdict (keyboard only, axe clean) show in
  ``keerpunt report --format json`` for the day with exact counts at ``min_cell: 1``.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from playwright.async_api import Page, expect

from bots.db.system_room import SystemRoomStore
from bots.texts import text
from bots.vetted.library import load_library
from keerpunt.cli import main
from keerpunt.site.folder import DEFAULT_CONTENT_DIR
from tests.support.browser import Stack
from tests.support.element import ElementClient, element_staff
from tests.support.matrix_clients import ClientFactory
from tests.support.staff import Observer, add_counsellor
from tests.support.waiting import wait_until
from tests.support.widget import (
    RECORD_TEXT,
    answer_triage_with_buttons,
    axe,
    claim_and_join,
    ever_shown,
    open_chat_page,
    start_chat,
    visitor_says,
)

pytestmark = [pytest.mark.browser, pytest.mark.integration]

SHIPPED = load_library(DEFAULT_CONTENT_DIR / "texts")
DUTCH_ONLY = "alleen-nederlands"


@pytest.fixture(scope="module")
def extra_config(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The shipped content with one vetted text that exists only in Dutch."""
    content = tmp_path_factory.mktemp("content") / "content"
    shutil.copytree(DEFAULT_CONTENT_DIR, content)
    shutil.copy(content / "texts" / "nl" / "veilig-thuis.md", content / "texts" / "nl" / f"{DUTCH_ONLY}.md")
    return {"portal": {"content_dir": str(content)}}


async def queue_room_of(stack: Stack) -> str:
    room = await SystemRoomStore(stack.bots.db).get("queue")
    assert room is not None
    return room


def mentions(event: dict[str, Any]) -> list[str]:
    return list((event["content"].get("m.mentions") or {}).get("user_ids", []))


async def test_a_vetted_text_reaches_the_visitor_in_their_language_and_the_command_never_shows(
    stack: Stack, page: Page, clients: ClientFactory
) -> None:
    counsellor = await add_counsellor(clients, stack.config, stack.bots.db, "tess")
    await open_chat_page(page, stack, "en")
    session = await start_chat(page)
    # A longer message than an answer ends the questions: the visitor waits in the queue.
    await visitor_says(page, "I just want to talk to someone about what is happening to me")
    await claim_and_join(stack, counsellor, session)
    room, queue_room = session["room_id"], await queue_room_of(stack)
    await page.evaluate(RECORD_TEXT)

    await counsellor.say(room, "!text noodnummers")
    english = SHIPPED.get("noodnummers", "en")
    assert english is not None
    message = page.locator(".kp-msg--bot", has_text=english.title)
    await expect(message).to_be_visible(timeout=30000)
    await expect(message.locator(".kp-who")).to_have_text("Keerpunt")
    await expect(message.locator(".kp-body")).to_contain_text("0800-2000")

    for name, refusal in (
        (DUTCH_ONLY, text("nl", "vetted.untranslated", name=DUTCH_ONLY, visitor_language="en")),
        ("pizza", "‘pizza’"),
    ):
        await counsellor.say(room, f"!text {name}")
        await counsellor.wait_for(
            lambda r=refusal: any(
                r in str(e["content"].get("body")) and counsellor.user_id in mentions(e)
                for e in counsellor.messages(queue_room, stack.bots.user_id)
            ),
            what=f"the refusal of !text {name} under the card",
        )
    # A message after the refusals: once the widget shows it, it has had everything before it.
    await counsellor.say(room, "still here")
    await expect(page.get_by_text("still here", exact=True)).to_be_visible(timeout=30000)
    shown = await ever_shown(page)
    assert "!text" not in shown and "pizza" not in shown and DUTCH_ONLY not in shown
    assert (
        len(counsellor.messages(room, stack.bots.user_id))
        == len(
            [e for e in counsellor.messages(room, stack.bots.user_id) if "Numbers for help" not in e["content"]["body"]]
        )
        + 1
    ), "the bot said exactly one more thing in the chat: the text"


async def element_supervisor(clients: ClientFactory, stack: Stack, name: str) -> ElementClient:
    """A supervisor (a counsellor with the flag, as `keerpunt staff add --supervisor`) in Element."""
    return await element_staff(clients, stack, name, supervisor=True)


async def test_a_colleague_reads_along_openly_from_joining_on_and_whispers_only_to_the_counsellor(
    stack: Stack, page: Page, clients: ClientFactory
) -> None:
    anna = await add_counsellor(clients, stack.config, stack.bots.db, "anna")
    await open_chat_page(page, stack)
    session = await start_chat(page)
    await answer_triage_with_buttons(page)
    await claim_and_join(stack, anna, session)
    joined_line = page.get_by_text("Er doet nu een hulpverlener mee.")
    await expect(joined_line).to_have_count(1, timeout=30000)
    room, queue_room, number = session["room_id"], await queue_room_of(stack), session["case"]
    # Written before anyone reads along.
    await visitor_says(page, "geheim-van-voor-het-meelezen-1")
    await anna.say(room, "vroeg-bericht-van-anna-2")
    await anna.wait_for(lambda: "geheim-van-voor-het-meelezen-1" in anna.bodies(room), what="the visitor's line")
    await expect(page.get_by_text("vroeg-bericht-van-anna-2", exact=True)).to_be_visible(timeout=30000)
    await page.evaluate(RECORD_TEXT)

    sam = await element_supervisor(clients, stack, "Sam")
    try:
        await sam.wait_for(lambda: sam.card(queue_room, number), what="the case's card")
        answer = await sam.reply_to(queue_room, await sam.say(queue_room, f"!watch {number}"))
        assert answer == text("nl", "supervision.watching", number=number)
        notice = page.locator(".kp-msg--bot", has_text="Een collega leest mee om ons werk goed te doen")
        await expect(notice).to_be_visible(timeout=30000)
        await sam.wait_for(lambda: room in sam.invites, what="the invite after the notice")
        await sam.join(room)
        await sam.say(room, "Hoi, ik ben Sam en ik lees even mee.")
        line = page.locator(".kp-msg--staff", has_text="Hoi, ik ben Sam en ik lees even mee.")
        await expect(line).to_be_visible(timeout=30000)
        await expect(line.locator(".kp-who")).to_have_text("Sam")
        await expect(joined_line).to_have_count(1)  # no "a counsellor joined" for the colleague

        # The supervisor reads from joining on: a later line decrypts, nothing earlier does.
        await visitor_says(page, "na-het-meelezen-3")
        await sam.wait_for(
            lambda: any(e["content"].get("body") == "na-het-meelezen-3" for e in sam.messages(room)),
            what="the visitor's line after joining",
        )
        earlier = ("geheim-van-voor-het-meelezen-1", "vroeg-bericht-van-anna-2")
        readable = [e["content"].get("body") for e in sam.events.values() if e["room_id"] == room and e["decrypted"]]
        assert not any(body in readable for body in earlier), readable

        # A whisper in the card's thread: the counsellor is mentioned there; the widget never sees it.
        # The card as it is now: Sam's new identity got every live card again, and reads only those.
        card = sam.card(queue_room, number)
        assert card is not None
        thread = {"rel_type": "m.thread", "event_id": card["event_id"], "m.in_reply_to": {"event_id": card["event_id"]}}
        await sam.say(queue_room, "fluister-4: vraag eens naar school", **{"m.relates_to": thread})
        whisper = text("nl", "supervision.staff.whisper", supervisor=sam.user_id, counsellor=anna.user_id)
        mention = await anna.wait_message(
            queue_room, stack.bots.user_id, lambda e: e["content"]["body"] == whisper, what="the whisper's mention"
        )
        assert mentions(mention) == [anna.user_id]
        await anna.wait_for(
            lambda: any("fluister-4" in b for b in anna.in_thread(queue_room, card["event_id"])), what="the whisper"
        )

        await sam.say(room, "!unwatch")
        await expect(page.locator(".kp-msg--bot", has_text="De collega leest niet meer mee.")).to_be_visible(
            timeout=30000
        )
        shown = await ever_shown(page)
        assert "fluister-4" not in shown and "!unwatch" not in shown and "!watch" not in shown
    finally:
        await sam.close()


def report_config(stack: Stack, directory: Path) -> Path:
    """`keerpunt report` over the stack's own database, with every count shown."""
    bots = stack.config.bots
    data = {
        "data_dir": stack.config.data_dir,
        "bots": {"database": bots.database, "database_password_file": bots.database_password_file},
        "statistics": {"min_cell": 1},
    }
    path = directory / "keerpunt.yaml"
    path.write_text(yaml.safe_dump(data), "utf-8")
    return path


async def report_today(stack: Stack, directory: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    day = datetime.now(UTC).astimezone(ZoneInfo(stack.config.hours.timezone)).date().isoformat()
    args = ["--config", str(report_config(stack, directory)), "report", "--from", day, "--to", day, "--format", "json"]
    code = await asyncio.to_thread(main, args)
    out, err = capsys.readouterr()
    assert code == 0, err
    measures: dict[str, Any] = json.loads(out)["measures"]
    return measures


def count(measures: dict[str, Any], measure: str, dimension: str | None = None) -> int:
    found = measures.get(measure, {"total": 0, "by": {}})
    value = found["total"] if dimension is None else found["by"].get(dimension, 0)
    assert isinstance(value, int), value
    return value


async def test_the_wrap_up_and_the_verdict_are_counted_for_the_day(
    stack: Stack, axe_page: Page, clients: ClientFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = axe_page
    before = await report_today(stack, tmp_path, capsys)
    counsellor: Observer = await add_counsellor(clients, stack.config, stack.bots.db, "wim")
    await open_chat_page(page, stack)
    session = await start_chat(page)
    await answer_triage_with_buttons(page)
    await claim_and_join(stack, counsellor, session)
    await expect(page.get_by_text("Er doet nu een hulpverlener mee.")).to_be_visible(timeout=30000)
    await counsellor.say(session["room_id"], "!close helped debts police")
    goodbye = text("nl", "queue.visitor.closed")
    await expect(page.locator(".kp-msg--bot .kp-body", has_text=goodbye.splitlines()[0])).to_be_visible(timeout=30000)
    await page.get_by_role("button", name="Gesprek stoppen").click()
    await page.get_by_role("button", name="Ja, stoppen").click()
    form = page.locator("form.kp-feedback")
    await expect(form).to_be_visible(timeout=20000)
    await axe(page, "the verdict on the ended screen")

    # Keyboard only: Tab into each question, Space or an arrow to choose, the third left out.
    await expect(page.locator("#kp-feedback-h")).to_have_text("Wil je ons nog iets laten weten?")
    await page.locator("h1", has_text="Het gesprek is gestopt").focus()
    await page.keyboard.press("Tab")
    await page.keyboard.press("Space")  # question 1: the first answer ("Ja")
    await page.keyboard.press("Tab")
    await page.keyboard.press("ArrowDown")  # question 2: the second answer ("Een beetje")
    await page.keyboard.press("Tab")  # into question 3, nothing chosen
    await page.keyboard.press("Tab")  # "Overslaan"
    await page.keyboard.press("Tab")  # "Versturen"
    async with page.expect_response("**/api/v1/feedback") as sent:
        await page.keyboard.press("Enter")
    response = await sent.value
    assert response.status == 204
    assert json.loads(response.request.post_data or "{}")["answers"] == {"helped": "yes", "understood": "a-bit"}
    await expect(page.get_by_text("Dank je wel! Hiermee maken we Keerpunt beter.")).to_be_visible()
    await axe(page, "the thanks on the ended screen")

    async def counted() -> bool:
        after = await report_today(stack, tmp_path, capsys)
        return count(after, "wrap_up_topics", "debts") > count(before, "wrap_up_topics", "debts")

    await wait_until(counted, within=60, what="the wrap-up in the day's counts")
    after = await report_today(stack, tmp_path, capsys)
    for measure, dimension in (
        ("feedback", None),
        ("feedback", "helped=yes"),
        ("feedback", "understood=a-bit"),
        ("wrap_up_topics", "debts"),
        ("wrap_up_referrals", "police"),
    ):
        assert count(after, measure, dimension) - count(before, measure, dimension) == 1, (measure, dimension)
    assert count(after, "feedback", "again=yes") == count(before, "feedback", "again=yes")
