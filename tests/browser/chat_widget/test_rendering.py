"""A hostile "counsellor" cannot run script in the visitor's browser (SECURITY.md D.17), and the
page talks to nobody but the Keerpunt origin and the homeserver (D.10)."""

from __future__ import annotations

import asyncio

import pytest
from playwright.async_api import Page, expect

from tests.support.browser import Stack
from tests.support.matrix_clients import TestUser
from tests.support.widget import counsellor_joins, counsellor_says, open_chat_page, record_dialogs, start_chat

pytestmark = [pytest.mark.browser, pytest.mark.integration]

HOSTILE_NAME = '<img src=x onerror="window.__xss=1">Anna'
CORPUS: list[tuple[str, dict[str, object]]] = [
    ("<script>window.__xss=1</script>", {}),
    ('<img src=x onerror="window.__xss=1">', {}),
    ('<svg onload="window.__xss=1"><script>window.__xss=1</script></svg>', {}),
    ("javascript:window.__xss=1", {}),
    ("JaVaScRiPt:window.__xss=1 and data:text/html,<script>window.__xss=1</script>", {}),
    ('https://example.org/ok"onmouseover="window.__xss=1', {}),
    (
        "klik hier",
        {
            "format": "org.matrix.custom.html",
            "formatted_body": '<a href="javascript:window.__xss=1">klik</a><img src=x onerror=window.__xss=1>'
            '<iframe src="javascript:window.__xss=1"></iframe><style>*{display:none}</style>',
        },
    ),
    (
        "kies maar",
        {"nl.keerpunt.prompt": {"id": "p", "options": [{"id": "a", "label": "<b onclick=window.__xss=1>ja</b>"}]}},
    ),
]
SAFE_LINK = "zie https://www.example.org/hulp."
EXPECTED_LINK = "https://www.example.org/hulp"

INSPECT = """() => {
  const log = document.querySelector(".kp-log");
  return {
    xss: window.__xss === 1,
    elements: [...log.querySelectorAll("*")].map((e) => e.tagName.toLowerCase()),
    links: [...log.querySelectorAll("a")].map((a) => ({href: a.getAttribute("href"), rel: a.rel, target: a.target})),
    handlers: [...log.querySelectorAll("*")].flatMap((e) => [...e.attributes].map((a) => a.name))
      .filter((n) => n.startsWith("on")),
    bodies: [...log.querySelectorAll(".kp-msg--staff .kp-body")].map((b) => b.textContent),
    names: [...log.querySelectorAll(".kp-msg--staff .kp-who")].map((b) => b.textContent),
    buttons: log.querySelectorAll(".kp-msg--staff button").length,
  };
}"""


async def test_hostile_messages_and_names_render_as_inert_text(stack: Stack, page: Page, counsellor: TestUser) -> None:
    dialogs = record_dialogs(page)
    await open_chat_page(page, stack)
    session = await start_chat(page)
    status, body = await stack.matrix(
        "PUT",
        f"/_matrix/client/v3/profile/{counsellor.user_id}/displayname",
        counsellor.client.access_token,
        {"displayname": HOSTILE_NAME},
    )
    assert status == 200, body
    await counsellor_joins(stack, counsellor, session)
    for text, extra in CORPUS:
        await counsellor_says(counsellor, session["room_id"], text, **extra)
    await counsellor_says(counsellor, session["room_id"], SAFE_LINK)
    await expect(page.locator(".kp-msg--staff")).to_have_count(len(CORPUS) + 1, timeout=30000)
    await asyncio.sleep(0.5)

    seen = await page.evaluate(INSPECT)
    assert seen["xss"] is False
    assert dialogs == []
    assert set(seen["elements"]) <= {"li", "p", "a", "button", "div"}
    assert seen["handlers"] == []
    # Only http(s) URLs become links, and a quote ends a URL.
    assert seen["links"] == [
        {"href": href, "rel": "noopener noreferrer", "target": "_blank"}
        for href in ("https://example.org/ok", EXPECTED_LINK)
    ]
    assert seen["bodies"] == [text for text, _ in CORPUS] + [SAFE_LINK]
    assert set(seen["names"]) == {HOSTILE_NAME}
    assert seen["buttons"] == 0, "only the bot's prompts become buttons"
