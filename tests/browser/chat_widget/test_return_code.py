"""Issue 17's acceptance run for the anonymous return code, in Chromium against the real stack
(Synapse with MSC3814 on, the bots with ``return_code.enabled``, a cross-signed counsellor in
strict mode). docs/return-code.md is the contract.

- The whole life of a code: a visitor makes one and leaves; the counsellor writes while they are
  away; a new browser profile comes back with code and word, reads the earlier conversation and
  the follow-up, the chat goes on both ways, the counsellor is told on the card; the code
  rotated (the old one is refused like an unknown one); the visitor leaves again, and three
  wrong words erase the chat, tell the counsellor and kill the code.
- "Return without history": the returning device shows nothing from before, the case re-links,
  and the key backup a found code would open holds nothing from before.

Covered by the bots' tests and not repeated here: an expired code is erased at expiry and the
purge leaves only counts (tests/core/test_return_code.py
``test_an_expired_code_erases_the_case_and_the_purge_leaves_only_counts`` and
``test_the_expiry_sweep_ends_a_dormant_case_nobody_came_back_to``); the lock, the password set
without signing out and the dehydrated device kept on a real Synapse
(tests/e2e/bots/test_return_code.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from playwright.async_api import Page, expect

from bots.db.system_room import SystemRoomStore
from bots.limits import TokenBuckets
from bots.returning.api import ReturnApi
from bots.texts import text
from bots.visitors.invites import secret_key
from tests.support.browser import Stack
from tests.support.matrix_clients import ClientFactory
from tests.support.return_code import (
    ENABLED,
    bots_part,
    derived,
    opens,
    storage_key,
    synapse_with_return_codes,
)
from tests.support.staff import Observer, add_counsellor
from tests.support.synapse import SynapseProcess
from tests.support.visitor import post_session
from tests.support.waiting import wait_until
from tests.support.widget import (
    WORD,
    answer_triage_with_buttons,
    case_of,
    claim_and_join,
    come_back,
    knows_devices,
    make_code,
    open_chat_page,
    read_code,
    start_chat,
    storage_of,
    visitor_says,
)

pytestmark = [pytest.mark.browser, pytest.mark.integration]

UNDECRYPTABLE = "Dit bericht kan niet geopend worden."


@pytest.fixture(scope="module")
def synapse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SynapseProcess]:
    yield from synapse_with_return_codes(tmp_path_factory)


@pytest.fixture(scope="module")
def extra_config() -> dict[str, Any]:
    return ENABLED


@pytest.fixture(autouse=True)
def fresh_return_limit(stack: Stack) -> None:
    """Every request of the suite comes from 127.0.0.1, and the code and return routes each have
    a limit of 10 per client and hour (not raised by config): each test starts with full ones."""
    limits = stack.bots.assembled.service(ReturnApi).limits
    for limiter in (limits.code, limits.back):
        limiter.per_client = TokenBuckets(int(limiter.per_client.capacity), 3600.0)


# --- the derivation, done again in Python (docs/return-code.md): the contract both sides keep ---


# --- steps ------------------------------------------------------------------------------------


async def end_chat(page: Page) -> None:
    await page.get_by_role("button", name="Gesprek stoppen").click()
    await page.get_by_role("button", name="Ja, stoppen").click()
    await expect(page.locator("h1", has_text="Het gesprek is gestopt")).to_be_visible(timeout=30000)
    await expect(page.get_by_text("Met je code en je geheime woord kun je later terugkomen.")).to_be_visible()


async def refused(page: Page) -> None:
    await expect(page.locator(".kp-error-text")).to_have_text(text_nl_error(), timeout=30000)


def text_nl_error() -> str:
    """The one text for an unknown, expired, used-up or wrong code (no oracle)."""
    return (
        "Met deze code en dit woord kunnen we geen gesprek openen. Kijk of je alles goed hebt getypt."
        " Lukt het niet? Begin dan een nieuw gesprek."
    )


async def queue_post(stack: Stack, counsellor: Observer, bodies: set[str]) -> None:
    queue_room = await SystemRoomStore(stack.bots.db).get("queue")
    assert queue_room is not None
    await counsellor.wait_message(
        queue_room, stack.bots.user_id, lambda e: e["content"].get("body") in bodies, within=30, what=str(bodies)
    )


async def no_offline_guessing(stack: Stack, session: dict[str, Any], code: str) -> None:
    """Review N9: what Synapse's database holds of the code's secret storage (the key's check
    values) cannot be opened with the code and the word alone, only with the bots' part, which
    they give out after checking the verifier (so each guess goes through /return, counted)."""
    token, user = session["access_token"], quote(session["user_id"])
    status, default = await stack.matrix(
        "GET", f"/_matrix/client/v3/user/{user}/account_data/m.secret_storage.default_key", token
    )
    assert status == 200, default
    kind = quote(f"m.secret_storage.key.{default['key']}")
    status, key_info = await stack.matrix("GET", f"/_matrix/client/v3/user/{user}/account_data/{kind}", token)
    assert status == 200 and {"iv", "mac"} <= set(key_info), key_info
    assert not opens(storage_key(code, WORD, None), key_info), "the code and the word alone open the secret storage"
    bots_key = secret_key(stack.bots.config.path(stack.bots.config.return_code.key_path))
    part = bots_part(bots_key, derived(code, WORD))
    assert opens(storage_key(code, WORD, part), key_info)
    assert not opens(storage_key(code, "paardebloem", part), key_info)


async def account(stack: Stack, user: str, operator: str) -> dict[str, Any]:
    status, body = await stack.matrix("GET", f"/_synapse/admin/v2/users/{quote(user)}", operator)
    assert status == 200, body
    return dict(body)


# --- the tests --------------------------------------------------------------------------------


async def test_a_code_brings_the_visitor_back_to_the_whole_conversation_until_wrong_words_erase_it(
    stack: Stack, fresh: Any, clients: ClientFactory
) -> None:
    counsellor = await add_counsellor(clients, stack.config, stack.bots.db, "anna")
    operator = (await clients.user("operator", admin=True)).registration.access_token
    page: Page = await fresh()
    await open_chat_page(page, stack)
    session = await start_chat(page)
    room, visitor = session["room_id"], session["user_id"]
    await answer_triage_with_buttons(page)
    await claim_and_join(stack, counsellor, session)
    await counsellor.say(room, "Hoi, ik ben Anna.")
    await expect(page.get_by_text("Hoi, ik ben Anna.")).to_be_visible(timeout=30000)
    await visitor_says(page, "Ik moet zo weg, maar wil later verder.")
    await counsellor.wait_for(lambda: "Ik moet zo weg, maar wil later verder." in counsellor.bodies(room, visitor))

    code = await make_code(page)
    await expect(page.get_by_text("Je hebt een code.", exact=False)).to_be_visible()
    await no_offline_guessing(stack, session, code)
    await end_chat(page)
    assert await storage_of(page) == {"local": 0, "session": 0, "idb": [], "caches": [], "cookie": ""}
    await page.context.close()
    case = await case_of(stack, visitor)
    assert case.state == "dormant"
    assert (await account(stack, visitor, operator))["locked"] is True

    # Written while the visitor is away: only the dehydrated device can receive its key.
    await knows_devices(stack, counsellor, visitor, operator)
    await counsellor.say(room, "Ik ben er nog. Schrijf gerust als je terug bent.")

    back: Page = await fresh()
    await come_back(back, stack, code)
    for earlier in ("Hoi, ik ben Anna.", "Ik ben er nog. Schrijf gerust als je terug bent."):
        await expect(back.get_by_text(earlier)).to_be_visible(timeout=60000)
    await expect(back.locator(".kp-msg--me", has_text="Ik moet zo weg, maar wil later verder.")).to_be_visible()
    await expect(back.get_by_text("Je eerdere gesprek")).to_be_visible()
    await expect(back.get_by_text(UNDECRYPTABLE)).to_have_count(0)
    await expect(back.locator(".kp-options button:enabled")).to_have_count(0)  # old questions stay answered
    # What the counsellor was told when the visitor left is not in the history the visitor reads.
    staff_only = text("nl", "queue.staff.visitor_dormant").split(".")[0]
    await expect(back.get_by_text(staff_only, exact=False)).to_have_count(0)
    # The code rotated: a new one, shown at once; the old one is used up.
    new_code = await read_code(back)
    assert new_code != code
    await queue_post(
        stack,
        counsellor,
        {
            text("nl", key, number=session["case"], days=0)
            for key in ("queue.staff.returned_to_you", "queue.staff.returned_to_queue")
        },
    )

    # The chat goes on, in strict mode, both ways.
    await visitor_says(back, "Ik ben terug.")
    await counsellor.wait_for(lambda: "Ik ben terug." in counsellor.bodies(room, visitor), what="the return message")
    await counsellor.say(room, "Fijn dat je terug bent.")
    await expect(back.get_by_text("Fijn dat je terug bent.")).to_be_visible(timeout=30000)
    assert counsellor.undecryptable == {}

    status, answer, _ = await post_session(
        stack.bots.api, derived(code, WORD), path="/api/v1/sessions/return", origin=stack.portal_url
    )
    assert (status, answer) == (403, {"error": "unknown_code"}), "a used-up code is refused like an unknown one"

    # Away again with the new code; three wrong words erase the chat.
    await end_chat(back)
    assert (await case_of(stack, visitor)).state == "dormant"
    thief: Page = await fresh()
    await come_back(thief, stack, new_code, "paardebloem")
    await refused(thief)
    for _ in range(2):
        await thief.get_by_role("button", name="Opnieuw proberen").click()
        await thief.get_by_label("Jouw geheime woord").fill("madeliefje")
        await thief.locator("button.kp-primary", has_text="Start").click()
        await refused(thief)
    await queue_post(stack, counsellor, {text("nl", "queue.staff.code_wrong", number=session["case"])})
    await wait_until(lambda: _erased(stack, visitor, operator), within=30, what="the visitor's account to be erased")
    status, answer, _ = await post_session(
        stack.bots.api, derived(new_code, WORD), path="/api/v1/sessions/return", origin=stack.portal_url
    )
    assert (status, answer) == (403, {"error": "unknown_code"}), "the right word no longer opens anything"


async def _erased(stack: Stack, user: str, operator: str) -> bool:
    return bool((await account(stack, user, operator))["deactivated"])


async def test_a_return_without_history_reads_nothing_from_before_and_relinks_the_case(
    stack: Stack, fresh: Any, clients: ClientFactory
) -> None:
    counsellor = await add_counsellor(clients, stack.config, stack.bots.db, "bram")
    operator = (await clients.user("operator2", admin=True)).registration.access_token
    page: Page = await fresh()
    await open_chat_page(page, stack)
    session = await start_chat(page)
    room, visitor = session["room_id"], session["user_id"]
    await stack.invite(room, counsellor.user_id)
    await counsellor.join(room)
    await counsellor.say(room, "Dit is van eerder.")
    await expect(page.get_by_text("Dit is van eerder.")).to_be_visible(timeout=30000)
    code = await make_code(page)
    status, before = await stack.matrix("GET", "/_matrix/client/v3/room_keys/version", session["access_token"])
    assert status == 200, before
    await end_chat(page)
    await page.context.close()
    await knows_devices(stack, counsellor, visitor, operator)
    await counsellor.say(room, "Ook van eerder, terwijl je weg was.")

    back: Page = await fresh()
    async with back.expect_response("**/_matrix/client/v3/login") as login:
        await come_back(back, stack, code, history=False)
    token = (await (await login.value).json())["access_token"]
    await expect(back.get_by_text("Eerdere berichten zie je hier niet.", exact=False)).to_be_visible(timeout=60000)
    await read_code(back)  # rotated: the new code's 4S holds a new backup
    # The case went back to the queue: the bot's queue line waits for this device to be signed
    # (bots.crypto.trust.NEW_DEVICE_GRACE), so it is readable here.
    await expect(back.locator(".kp-msg--bot").last).to_be_visible(timeout=30000)
    await expect(back.get_by_text(UNDECRYPTABLE)).to_have_count(0)
    for earlier in ("Dit is van eerder.", "Ook van eerder, terwijl je weg was."):
        await expect(back.get_by_text(earlier)).to_have_count(0)
    case = await case_of(stack, visitor)
    assert case.state == "open" and case.room_id == room

    await visitor_says(back, "Ik ben terug, zonder het oude gesprek.")
    await counsellor.wait_for(
        lambda: "Ik ben terug, zonder het oude gesprek." in counsellor.bodies(room, visitor), what="the message"
    )
    await counsellor.say(room, "Welkom terug.")
    await expect(back.get_by_text("Welkom terug.")).to_be_visible(timeout=30000)

    # What a found new code would open: a new backup; the one holding the earlier keys is gone.
    status, now = await stack.matrix("GET", "/_matrix/client/v3/room_keys/version", token)
    assert status == 200 and now["version"] != before["version"], now
    status, _ = await stack.matrix("GET", f"/_matrix/client/v3/room_keys/version/{before['version']}", token)
    assert status == 404


async def test_when_the_new_code_cannot_be_made_after_a_return_the_visitor_is_told(stack: Stack, fresh: Any) -> None:
    page: Page = await fresh()
    await open_chat_page(page, stack)
    await start_chat(page)
    code = await make_code(page)
    await end_chat(page)
    await page.context.close()

    back: Page = await fresh()

    async def refuse(route: Any) -> None:
        await route.fulfill(status=503, body="{}", content_type="application/json")

    await back.route("**/api/v1/sessions/code", refuse)  # the rotation after the return fails
    await come_back(back, stack, code)
    await expect(back.get_by_text("Je oude code werkt niet meer.", exact=False)).to_be_visible(timeout=60000)
    # The way to a new code stays open, and the old one is used up (refused like any unknown code).
    await expect(back.get_by_role("button", name="Wil je later verder praten?")).to_be_visible()
    status, answer, _ = await post_session(
        stack.bots.api, derived(code, WORD), path="/api/v1/sessions/return", origin=stack.portal_url
    )
    assert (status, answer) == (403, {"error": "unknown_code"})
