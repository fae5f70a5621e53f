"""Vetted texts (issue 24): ``!texts`` lists them; ``!text <name>`` in a chat posts the text from
the bot in the visitor's language; an unknown or untranslated text is refused to the counsellor
alone and nothing reaches the visitor."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from bots.texts import text
from bots.vetted.commands import VETTED_KEY
from bots.vetted.library import load_library
from keerpunt.base.config import ConfigError
from keerpunt.site.folder import DEFAULT_CONTENT_DIR
from tests.support.core import CoreBot

CALM = {"audience": "self", "danger": "no", "topic": "money-mule", "region": "zeeland"}
SHIPPED = load_library(DEFAULT_CONTENT_DIR / "texts")


@pytest.fixture
def core_config(tmp_path: Path) -> dict[str, Any]:
    """The shipped content, with one text only in Dutch."""
    content = tmp_path / "content"
    shutil.copytree(DEFAULT_CONTENT_DIR, content)
    shutil.copy(content / "texts" / "nl" / "noodnummers.md", content / "texts" / "nl" / "alleen-nederlands.md")
    return {"portal": {"content_dir": str(content)}}


def test_every_shipped_text_is_there_in_dutch_and_english_with_a_title() -> None:
    assert {"noodnummers", "veilig-thuis", "fier", "warme-overdracht", "terugkomcode"} <= set(SHIPPED.names)
    for name in SHIPPED.names:
        assert set(SHIPPED.texts[name]) == {"nl", "en"}, name
    emergency = SHIPPED.get("noodnummers", "nl")
    assert emergency is not None
    for number in ("112", "0900-8844", "0800-2000", "0800-0432", "0900-0101", "0800-7000"):
        assert number in emergency.body, number


def test_a_broken_text_stops_the_bots_before_they_start(tmp_path: Path) -> None:
    (tmp_path / "nl").mkdir()
    (tmp_path / "nl" / "zonder-titel.md").write_text("Alleen tekst.\n", "utf-8")
    with pytest.raises(ConfigError, match="front matter"):
        load_library(tmp_path)


async def test_a_text_goes_to_the_visitor_in_their_language_and_a_refusal_only_to_the_counsellor(
    core: CoreBot,
) -> None:
    anna = await core.add_staff("anna")
    listing = await core.command(core.queue_room, anna, "!texts")
    assert listing is not None and "noodnummers: Nummers voor hulp (en, nl)" in listing
    visitor = await core.open_case("en")
    await visitor.answer_all(CALM)
    await core.command(core.queue_room, anna, f"!claim {visitor.number}")
    await core.join(visitor.room_id, anna, "Anna")
    heard = len(visitor.heard())

    assert await core.command(visitor.room_id, anna, "!text noodnummers") is None
    sent = visitor.last()
    english = SHIPPED.get("noodnummers", "en")
    assert english is not None and sent.body == english.message and sent.body.startswith("Numbers for help")
    assert sent.kind == "vetted.text" and sent.content[VETTED_KEY] == {"name": "noodnummers"}
    assert "formatted_body" not in sent.content

    refused = await core.command(visitor.room_id, anna, "!text alleen-nederlands")
    assert refused == text("nl", "vetted.untranslated", name="alleen-nederlands", visitor_language="en")
    unknown = await core.command(visitor.room_id, anna, "!text pizza")
    assert unknown is not None and unknown.startswith(text("nl", "vetted.unknown", name="pizza", names="x")[:30])
    # Both refusals went under the card (mentioning Anna), nothing more to the visitor.
    assert len(visitor.heard()) == heard + 1
    assert refused in core.thread(visitor.number)
    # Only in a chat.
    assert await core.command(core.queue_room, anna, "!text noodnummers") == text("nl", "commands.only_in_case_room")
