"""Campaign landing pages, data-driven from ``content/campaigns.yaml``.

Outreach workers send people to ``/nl/campagne/<slug>``; the chat button there carries the
campaign slug so the session is counted per campaign (never per person).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from portal.content import LANGUAGES, SLUG, TOPICS, ContentError, Language

FIELDS = ("slug", "topics", "articles", *LANGUAGES)
TEXT_FIELDS = {"title": 80, "summary": 300, "body": 6000, "chat_prompt": 160}


@dataclass(frozen=True)
class CampaignText:
    title: str
    summary: str
    body: str
    chat_prompt: str


@dataclass(frozen=True)
class Campaign:
    slug: str
    topics: tuple[str, ...]
    articles: tuple[str, ...]  # translation keys of articles to read next
    texts: Mapping[Language, CampaignText]


def _texts(path: Path, key: str, value: Any) -> CampaignText:
    if not isinstance(value, Mapping):
        raise ContentError(path, key, "must be a mapping with " + ", ".join(TEXT_FIELDS))
    for name in value:
        if name not in TEXT_FIELDS:
            raise ContentError(path, f"{key}.{name}", f"unknown field; known fields: {', '.join(TEXT_FIELDS)}")
    out = {}
    for name, limit in TEXT_FIELDS.items():
        text = value.get(name)
        if not isinstance(text, str) or not text.strip():
            raise ContentError(path, f"{key}.{name}", "must be non-empty text")
        if len(text) > limit:
            raise ContentError(path, f"{key}.{name}", f"is {len(text)} characters; keep it under {limit}")
        out[name] = text.strip()
    return CampaignText(**out)


def _keys(path: Path, key: str, value: Any, allowed: tuple[str, ...] | None) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ContentError(path, key, "must be a list of names")
    for i, item in enumerate(value):
        if allowed is not None and item not in allowed:
            raise ContentError(path, f"{key}[{i}]", f"unknown value {item!r}; use one of {', '.join(allowed)}")
    return tuple(value)


def _campaign(path: Path, key: str, item: Any) -> Campaign:
    if not isinstance(item, Mapping):
        raise ContentError(path, key, "must be a mapping")
    for name in item:
        if name not in FIELDS:
            raise ContentError(path, f"{key}.{name}", f"unknown field; known fields: {', '.join(FIELDS)}")
    for name in FIELDS:
        if name not in item:
            raise ContentError(path, f"{key}.{name}", "missing")
    slug = item["slug"]
    if not isinstance(slug, str) or not SLUG.match(slug):
        raise ContentError(path, f"{key}.slug", "must be lowercase letters, digits and dashes (it is the URL)")
    return Campaign(
        slug=slug,
        topics=_keys(path, f"{key}.topics", item["topics"], TOPICS),
        articles=_keys(path, f"{key}.articles", item["articles"], None),
        texts={lang: _texts(path, f"{key}.{lang}", item[lang]) for lang in LANGUAGES},
    )


def load_campaigns(content_dir: Path) -> list[Campaign]:
    path = content_dir / "campaigns.yaml"
    if not path.exists():
        return []
    try:
        data = yaml.safe_load(path.read_text("utf-8"))
    except yaml.YAMLError as exc:
        raise ContentError(path, "", f"is not valid YAML: {exc}") from None
    if not isinstance(data, Mapping) or set(data) != {"campaigns"} or not isinstance(data["campaigns"], list):
        raise ContentError(path, "campaigns", "the file must hold one key, campaigns, with a list")
    campaigns = [_campaign(path, f"campaigns[{i}]", item) for i, item in enumerate(data["campaigns"])]
    slugs = [c.slug for c in campaigns]
    for i, slug in enumerate(slugs):
        if slug in slugs[:i]:
            raise ContentError(path, f"campaigns[{i}].slug", f"{slug!r} is used twice")
    return campaigns
