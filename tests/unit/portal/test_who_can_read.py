"""What a visitor is told about who can read the chat is exactly true wherever it is said (issue 29;
security review N11): the bots are members of every case room and read it, so a promise names
Keerpunt's chat system, and no text says that only "the people in the conversation" can read it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from keerpunt.site.folder import DEFAULT_CONTENT_DIR

ROOT = Path(__file__).resolve().parents[3]
LOCALES = ROOT / "widget" / "src" / "app" / "locales"
CHAT_SYSTEM = {"nl": "het chatsysteem van Keerpunt", "en": "Keerpunt's chat system"}
# The pages that say who can read the messages (docs/privacy.md "Who can read a conversation").
PROMISES = {
    "nl": ["privacyverklaring.md", "je-privacy-en-anonimiteit.md", "wat-gebeurt-er-als-je-chat.md"],
    "en": ["privacy-statement.md", "your-privacy-and-anonymity.md", "what-happens-when-you-chat.md"],
}
# "Only (you and) the people in the conversation can read": untrue, the bots read too.
ONLY_THE_PEOPLE = re.compile(
    r"\b(alleen|only)\b[^.]*\b(mensen|people)\b[^.]*\b(gesprek|conversation)\b[^.]*\b(lezen|read)", re.IGNORECASE
)


def start_screen_text(language: str) -> str:
    return str(json.loads((LOCALES / f"{language}.json").read_text("utf-8"))["start_encrypted"])


def visitor_texts() -> list[tuple[str, str]]:
    pages = [(str(p.relative_to(ROOT)), p.read_text("utf-8")) for p in sorted(DEFAULT_CONTENT_DIR.glob("*/*.md"))]
    screens = [(f"start screen ({lang})", start_screen_text(lang)) for lang in CHAT_SYSTEM]
    return pages + screens


@pytest.mark.parametrize("language", list(CHAT_SYSTEM))
def test_the_start_screen_and_the_privacy_pages_name_the_chat_system_as_a_reader(language: str) -> None:
    texts = [start_screen_text(language)] + [
        (DEFAULT_CONTENT_DIR / language / name).read_text("utf-8") for name in PROMISES[language]
    ]
    assert all(CHAT_SYSTEM[language] in text for text in texts)


def test_no_text_says_only_the_people_in_the_conversation_can_read_it() -> None:
    untrue = [where for where, text in visitor_texts() if ONLY_THE_PEOPLE.search(text)]
    assert untrue == []


def test_the_check_finds_the_old_promise() -> None:
    assert ONLY_THE_PEOPLE.search(
        "Het gesprek is versleuteld. Alleen jij en de mensen in het gesprek kunnen het lezen."
    )
    assert ONLY_THE_PEOPLE.search("That means: only the people in the conversation can read them.")
    assert not ONLY_THE_PEOPLE.search(
        "Alleen jij, de hulpverleners in het gesprek en het chatsysteem van Keerpunt lezen het."
    )
