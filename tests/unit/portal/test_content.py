"""Every content file is valid, and invalid content stops the portal naming file and field."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from keerpunt.base.config import EXIT_CONFIG
from keerpunt.site.content import (
    AUDIENCES,
    FULL_LANGUAGES,
    LANGUAGES,
    PAGE_KEYS,
    ContentError,
    load_articles,
    parse_article,
)
from keerpunt.site.folder import DEFAULT_CONTENT_DIR
from keerpunt.site.routes import url
from portal.site import Site, load_site

CONTENT_FILES = sorted(DEFAULT_CONTENT_DIR.glob("*/*.md"))
LINK = re.compile(r"\]\((/(?:nl|en|pl|ro|bg|uk|ar)/[^)\s#]*)")


@pytest.mark.parametrize("path", CONTENT_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_content_file_has_valid_front_matter(path: Path) -> None:
    article = parse_article(path, path.read_text("utf-8"), path.parent.name)
    assert article.language == path.parent.name
    assert article.title and article.summary and article.body.strip()


def test_there_are_at_least_twenty_articles_in_each_language(site: Site) -> None:
    for language in LANGUAGES:
        assert len(site.listed(language)) >= 20, language


def test_every_article_has_a_translation(site: Site) -> None:
    keys = {
        lang: {e.article.translation_key for e in site.articles if e.article.language == lang} for lang in LANGUAGES
    }
    assert keys["nl"] == keys["en"], keys["nl"] ^ keys["en"]


def test_every_audience_has_articles(site: Site) -> None:
    for language in LANGUAGES:
        for audience in AUDIENCES:
            assert site.for_audience(language, audience), (language, audience)


def test_links_between_articles_point_to_pages_that_exist(site: Site) -> None:
    known = set(site.by_path) | {url("article", e.article.language, slug=e.article.slug) for e in site.articles}
    broken = []
    for path in CONTENT_FILES:
        for link in LINK.findall(path.read_text("utf-8")):
            if link not in known:
                broken.append(f"{path.parent.name}/{path.name}: {link}")
    assert not broken, "\n".join(broken)


def test_the_fixed_pages_exist_in_both_full_languages_and_safety_in_all(site: Site) -> None:
    for language in FULL_LANGUAGES:
        for key in PAGE_KEYS:
            assert site.page(language, key).article.is_page
    for language in LANGUAGES:
        assert site.page(language, "safety").article.is_page


def test_the_geldezel_campaign_is_data_driven(site: Site) -> None:
    campaign = site.campaign("geldezel-no-way")
    assert campaign is not None
    assert campaign.texts["nl"].title == "Geldezel? No way!"
    assert "money-mule" in campaign.articles


GOOD = """---
title: Een titel
summary: Een samenvatting.
audience: [young]
topics: [exploitation]
language: nl
updated: 2026-11-28
translation_key: test-key
---
## Tekst

Hallo.
"""

BROKEN = [
    ("title: Een titel\n", "", "title", "missing"),
    ("audience: [young]", "audience: [kids]", "audience[0]", "unknown value 'kids'"),
    ("audience: [young]", "audience: []", "audience", "non-empty list"),
    ("topics: [exploitation]", "topics: [exploitation, exploitation]", "topics", "twice"),
    ("updated: 2026-11-28", "updated: gisteren", "updated", "ISO date"),
    ("language: nl", "language: en", "language", "folder"),
    ("translation_key: test-key", "translation_key: Test Key", "translation_key", "lowercase"),
    ("title: Een titel", "title: Een titel\nauthor: Piet", "author", "unknown field"),
    ("translation_key: test-key", "translation_key: test-key\nkind: page", "translation_key", "a page must be"),
    ("translation_key: test-key", "translation_key: test-key\nkind: blog", "kind", "unknown value 'blog'"),
    ("summary: Een samenvatting.", "summary: [1, 2]", "summary", "non-empty text"),
    ("## Tekst\n\nHallo.\n", "", "body", "empty"),
]


@pytest.mark.parametrize(("old", "new", "field", "problem"), BROKEN, ids=[b[2] + "-" + b[3] for b in BROKEN])
def test_invalid_front_matter_names_the_file_and_field(
    content_copy: Path, old: str, new: str, field: str, problem: str
) -> None:
    path = content_copy / "nl" / "kapot.md"
    assert old in GOOD
    path.write_text(GOOD.replace(old, new), "utf-8")
    with pytest.raises(ContentError) as caught:
        load_articles(content_copy)
    message = str(caught.value)
    assert "kapot.md" in message
    assert f": {field}:" in message or message.endswith(f": {field}") or f": {field} " in message, message
    assert problem in message


def test_a_file_without_front_matter_is_refused(content_copy: Path) -> None:
    (content_copy / "en" / "plain.md").write_text("# Just text\n", "utf-8")
    with pytest.raises(ContentError, match=r"plain\.md.*front matter"):
        load_articles(content_copy)


def test_a_translation_key_used_twice_is_refused(content_copy: Path) -> None:
    (content_copy / "nl" / "dubbel.md").write_text(GOOD.replace("test-key", "money-mule"), "utf-8")
    with pytest.raises(ContentError, match=r"\.md: translation_key: 'money-mule' is also used by") as caught:
        load_articles(content_copy)
    assert "dubbel.md" in str(caught.value)


def test_a_missing_fixed_page_is_refused(content_copy: Path) -> None:
    page = next(p for p in (content_copy / "en").glob("*.md") if "translation_key: about" in p.read_text("utf-8"))
    page.unlink()
    with pytest.raises(ContentError, match="translation_key: about"):
        load_articles(content_copy)


def test_a_campaign_reading_an_unknown_article_is_refused(content_copy: Path) -> None:
    path = content_copy / "campaigns.yaml"
    data = yaml.safe_load(path.read_text("utf-8"))
    data["campaigns"][0]["articles"].append("no-such-article")
    path.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    with pytest.raises(ContentError, match=r"campaigns\.yaml: campaigns\[0\]\.articles\[4\]: no nl article"):
        load_site(content_copy)


def test_a_campaign_with_an_unknown_field_is_refused(content_copy: Path) -> None:
    path = content_copy / "campaigns.yaml"
    data = yaml.safe_load(path.read_text("utf-8"))
    data["campaigns"][0]["nl"]["subtitle"] = "x"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    with pytest.raises(ContentError, match=r"campaigns\[0\]\.nl\.subtitle: unknown field"):
        load_site(content_copy)


def test_keerpunt_run_portal_exits_with_the_content_error(content_copy: Path, tmp_path: Path) -> None:
    (content_copy / "nl" / "kapot.md").write_text(GOOD.replace("audience: [young]", "audience: [kids]"), "utf-8")
    data_dir = tmp_path / "data"
    secret = data_dir / "synapse" / "secrets" / "registration_shared_secret"
    secret.parent.mkdir(parents=True)
    secret.write_text("test-secret\n", "utf-8")
    (secret.parent / "visitor_appservice_token").write_text("test-token\n", "utf-8")
    config = tmp_path / "keerpunt.yaml"
    config.write_text(yaml.safe_dump({"data_dir": str(data_dir), "portal": {"content_dir": str(content_copy)}}))
    result = subprocess.run(
        [sys.executable, "-m", "keerpunt", "--config", str(config), "run", "portal"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == EXIT_CONFIG, result.stderr
    assert "kapot.md: audience[0]: unknown value 'kids'" in result.stderr
