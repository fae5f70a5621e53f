"""Campaign landing pages, data-driven from ``content/campaigns.yaml``.

Outreach workers send people to ``/nl/campagne/<slug>``; the chat button there carries the
campaign slug so the session is counted per campaign (never per person).

A campaign may have dates (``starts``, ``ends``; days in the platform's time zone, both
included). Before it starts it does not exist anywhere: no page, no tag, no outreach link, so a
campaign can be prepared ahead of its launch without leaking. While it runs it is listed on the
home page, in the sitemap and offered to outreach workers. After it ends its page stays (people
still carry old flyers and links, and their chats are still counted for it) but it is no longer
listed, indexed or offered for new links.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from keerpunt.site.content import FULL_LANGUAGES, SLUG, TOPICS, ContentError, Language

FIELDS = ("slug", "topics", "articles", *FULL_LANGUAGES)  # texts in Dutch and English
OPTIONAL_FIELDS = ("starts", "ends")
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
    starts: dt.date | None = None
    ends: dt.date | None = None

    def published(self, day: dt.date) -> bool:
        """Its page exists and chats may carry its tag (from ``starts`` on, for good)."""
        return self.starts is None or day >= self.starts

    def running(self, day: dt.date) -> bool:
        """Listed, indexed and offered for outreach links (``starts`` to ``ends``, both included)."""
        return self.published(day) and (self.ends is None or day <= self.ends)


def today(timezone: str, now: dt.datetime | None = None) -> dt.date:
    """The platform's day (campaign dates are days in ``hours.timezone``)."""
    return (now or dt.datetime.now(dt.UTC)).astimezone(ZoneInfo(timezone)).date()


def next_change(campaigns: Iterable[Campaign], day: dt.date) -> dt.date | None:
    """The first day after ``day`` on which some campaign starts or stops running."""
    days = [c.starts for c in campaigns if c.starts is not None]
    days += [c.ends + dt.timedelta(days=1) for c in campaigns if c.ends is not None]
    return min((d for d in days if d > day), default=None)


def _date(path: Path, key: str, value: Any) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date | str):
        raise ContentError(path, key, "must be a day, written 2026-12-31")
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ContentError(path, key, "must be a day, written 2026-12-31") from None


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
        if name not in FIELDS and name not in OPTIONAL_FIELDS:
            known = ", ".join((*FIELDS, *OPTIONAL_FIELDS))
            raise ContentError(path, f"{key}.{name}", f"unknown field; known fields: {known}")
    for name in FIELDS:
        if name not in item:
            raise ContentError(path, f"{key}.{name}", "missing")
    slug = item["slug"]
    if not isinstance(slug, str) or not SLUG.match(slug):
        raise ContentError(path, f"{key}.slug", "must be lowercase letters, digits and dashes (it is the URL)")
    starts = _date(path, f"{key}.starts", item.get("starts"))
    ends = _date(path, f"{key}.ends", item.get("ends"))
    if starts is not None and ends is not None and ends < starts:
        raise ContentError(path, f"{key}.ends", f"is before starts ({starts.isoformat()})")
    return Campaign(
        slug=slug,
        topics=_keys(path, f"{key}.topics", item["topics"], TOPICS),
        articles=_keys(path, f"{key}.articles", item["articles"], None),
        texts={lang: _texts(path, f"{key}.{lang}", item[lang]) for lang in FULL_LANGUAGES},
        starts=starts,
        ends=ends,
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
