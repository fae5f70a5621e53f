"""Steps of the visitor's flow in the browser and the counsellor's on a nio client."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote

from playwright.async_api import Dialog, Page, expect

from bots.db.system_room import SystemRoomStore

from .browser import AXE, Stack
from .matrix_clients import TestUser
from .staff import Observer
from .visitor import join, messages_from, send
from .waiting import wait_until


async def open_chat_page(page: Page, stack: Stack, language: str = "nl") -> None:
    await page.goto(f"{stack.portal_url}/chat/?lang={language}")
    await expect(page.locator("#kp-app h1").first).to_be_visible()


async def start_chat(page: Page) -> dict[str, Any]:
    """Press Start and wait for the bot's greeting; returns the session API's answer."""
    async with page.expect_response("**/api/v1/sessions") as info:
        await page.locator("button.kp-primary", has_text="Start").click()
    response = await info.value
    assert response.status == 201, await response.text()
    session = json.loads(await response.text())
    await expect(page.locator(".kp-msg--bot").first).to_be_visible(timeout=30000)
    return dict(session)


async def counsellor_joins(stack: Stack, counsellor: TestUser, session: dict[str, Any]) -> None:
    await stack.invite(session["room_id"], counsellor.user_id)
    await join(counsellor, session["room_id"], session["bot"])


async def counsellor_says(counsellor: TestUser, room_id: str, body: str, **extra: Any) -> str:
    return await send(counsellor, room_id, "m.room.message", {"msgtype": "m.text", "body": body, **extra})


async def counsellor_reads(
    counsellor: TestUser, session: dict[str, Any], count: int, *, receipt: bool = False
) -> list[str]:
    got, failed = await messages_from(counsellor, session["room_id"], session["user_id"], count=count, within=60)
    assert not failed, f"{len(failed)} visitor message(s) could not be decrypted"
    if receipt and got:
        last = got[-1].event_id
        await counsellor.client.room_read_markers(session["room_id"], fully_read_event=last, read_event=last)
    return [m.body for m in got]


async def visitor_says(page: Page, body: str) -> None:
    box = page.locator("#kp-input")
    await box.fill(body)
    await box.press("Enter")


def chat_texts(page: Page) -> Any:
    return page.locator(".kp-log .kp-body")


async def case_of(stack: Stack, user_id: str) -> Any:
    from bots.db.case import CaseStore
    from bots.ids import UserID

    return await CaseStore(stack.bots.db).by_visitor(UserID(user_id))


async def whoami_status(stack: Stack, access_token: str) -> int:
    status, _ = await stack.matrix("GET", "/_matrix/client/v3/account/whoami", access_token)
    return status


STORAGE_PROBE = """async () => ({
  local: localStorage.length,
  session: sessionStorage.length,
  idb: (await indexedDB.databases()).map((d) => d.name),
  caches: await caches.keys(),
  cookie: document.cookie,
})"""


async def storage_of(page: Page) -> dict[str, Any]:
    return dict(await page.evaluate(STORAGE_PROBE))


def record_dialogs(page: Page) -> list[str]:
    seen: list[str] = []

    async def on_dialog(dialog: Dialog) -> None:
        seen.append(dialog.type)
        await dialog.dismiss()

    page.on("dialog", on_dialog)
    return seen


TRIAGE = [
    ("Voor wie zoek je hulp?", "Voor mezelf"),
    ("Is iemand nu in gevaar?", "Nee"),
    ("Waar gaat het over?", "Drugs rondbrengen of dealen"),
    ("In welke provincie woon je?", "Utrecht"),
]


async def answer_triage_with_buttons(page: Page) -> None:
    for question, label in TRIAGE:
        prompt = page.locator(".kp-msg--bot", has_text=question).last
        button = prompt.locator(".kp-options").get_by_role("button", name=label, exact=True)
        await expect(button).to_be_enabled(timeout=30000)
        await button.click()
        await expect(button).to_be_disabled()
        await expect(page.locator(".kp-msg--me", has_text=label)).to_be_visible()


async def claim_and_join(stack: Stack, counsellor: Observer, session: dict[str, Any]) -> None:
    queue_room = await SystemRoomStore(stack.bots.db).get("queue")
    assert queue_room is not None
    await counsellor.wait_for(lambda: counsellor.card(queue_room, session["case"]), what="the case card")
    await counsellor.say(queue_room, f"!claim {session['case']}")
    room = session["room_id"]
    await counsellor.wait_for(lambda: room in counsellor.user.client.invited_rooms, what="the invite")
    await counsellor.join(room)


RUN_AXE = """async () => {
  const tags = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];
  const result = await axe.run(document, {runOnly: {type: "tag", values: tags}});
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => ({id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(" "))}));
}"""


async def axe(page: Page, screen: str) -> None:
    if not await page.evaluate("typeof axe !== 'undefined'"):
        await page.add_script_tag(path=str(AXE))
    violations: list[dict[str, Any]] = await page.evaluate(RUN_AXE)
    assert violations == [], f"{screen}: {violations}"


# Every text the page ever showed, from now on (removed nodes included: they were shown).
RECORD_TEXT = """() => {
  const seen = [];
  const take = (records) => {
    for (const record of records) {
      if (record.type === "characterData") seen.push(record.target.textContent || "");
      for (const node of record.addedNodes) seen.push(node.textContent || "");
    }
  };
  const observer = new MutationObserver(take);
  observer.observe(document.documentElement, {subtree: true, childList: true, characterData: true});
  window.kpEverShown = () => {
    take(observer.takeRecords());
    return seen.join("\\n") + "\\n" + document.documentElement.textContent;
  };
}"""


async def ever_shown(page: Page) -> str:
    return str(await page.evaluate("() => window.kpEverShown()"))


# --- the return code in the widget (docs/return-code.md) ----------------------------------------

WORD = "zonnebloem"


async def make_code(page: Page, word: str = WORD) -> str:
    """ "Wil je later verder praten?" → yes → a second word → the code shown (and closed again)."""
    await page.get_by_role("button", name="Wil je later verder praten?").click()
    dialog = page.locator("dialog.kp-later")
    await expect(dialog).to_contain_text("kan dit gesprek lezen")  # what a code cannot do
    await dialog.get_by_role("button", name="Ja, maak een code").click()
    await dialog.get_by_label("Kies een geheim woord").fill(word)
    await dialog.get_by_role("button", name="Maak mijn code").click()
    return await read_code(page)


async def read_code(page: Page) -> str:
    shown = page.locator("#kp-later-code")
    await expect(shown).to_have_text(re.compile(r"^[a-z]+(-[a-z]+){3}$"), timeout=30000)
    code = await shown.inner_text()
    await page.locator("dialog.kp-later").get_by_role("button", name="Klaar").click()
    return code


async def come_back(page: Page, stack: Stack, code: str, word: str = WORD, *, history: bool = True) -> None:
    await open_chat_page(page, stack)
    await page.get_by_role("button", name="Ik heb een code").click()
    await page.get_by_label("Jouw code").fill(code.replace("-", " "))
    await page.get_by_label("Jouw geheime woord").fill(word)
    if not history:
        await page.get_by_label("Kom terug zonder het eerdere gesprek").check()
    await page.locator("button.kp-primary", has_text="Start").click()


async def knows_devices(stack: Stack, counsellor: Observer, user: str, operator: str) -> None:
    """The counsellor's client has seen the visitor's device list change (the dehydrated device
    in, the others out), as Element does by syncing all the time; the test client syncs on demand."""
    status, body = await stack.matrix("GET", f"/_synapse/admin/v2/users/{quote(user)}/devices", operator)
    assert status == 200, body
    devices = {d["device_id"] for d in body["devices"]}
    client = counsellor.user.client

    async def known() -> bool:
        await counsellor.sync()
        if client.should_query_keys:
            await client.keys_query()
        return devices <= {d.id for d in client.device_store.active_user_devices(user)}

    await wait_until(known, within=20, what="the counsellor's client to see the dehydrated device")
