"""Texts come from the translation files, complete in both languages."""

from __future__ import annotations

import re
from pathlib import Path

from aiohttp import web
from aiohttp.test_utils import TestClient

from portal.i18n import flat_keys, load_translations

Client = TestClient[web.Request, web.Application]
TEMPLATES = Path(__file__).resolve().parents[3] / "portal" / "templates"


def test_dutch_and_english_have_the_same_texts() -> None:
    translations = load_translations()
    assert flat_keys(translations["nl"].texts) == flat_keys(translations["en"].texts)


def test_every_text_key_used_in_a_template_exists() -> None:
    t = load_translations()["nl"]
    used = set()
    for template in TEMPLATES.glob("*.html"):
        used |= set(re.findall(r'\bt\("([a-z_.]+)"\s*[,)]', template.read_text("utf-8")))
    assert len(used) > 40
    for key in used:
        t(key)  # raises KeyError naming the file and key


def test_templates_hold_no_sentences_of_their_own() -> None:
    for template in TEMPLATES.glob("*.html"):
        text = re.sub(r"{[{%#].*?[}%#]}", " ", template.read_text("utf-8"), flags=re.S)
        text = re.sub(r"<[^>]+>", " ", text)
        words = [w for w in re.findall(r"[A-Za-zÀ-ÿ]{3,}", text)]
        assert not words, (template.name, words[:5])


async def test_english_pages_show_english_and_dutch_pages_dutch(client: Client) -> None:
    english = await (await client.get("/en/article/how-recruitment-works")).text()
    dutch = await (await client.get("/nl/artikel/zo-word-je-geronseld")).text()
    assert ">Quick exit<" in english and "Snel weg" not in english
    assert ">Snel weg<" in dutch and "Quick exit" not in dutch
    assert '<a href="/nl/artikel/zo-word-je-geronseld" lang="nl" hreflang="nl" dir="ltr">Nederlands</a>' in english
