"""Where an invite link points: the portal's chat page, a campaign page or an article."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote

from keerpunt.config import Config
from portal.app import content_dir
from portal.campaigns import Campaign, load_campaigns
from portal.content import load_articles
from portal.i18n import ROUTES
from portal.site import DEFAULT_CONTENT_DIR


@dataclass(frozen=True)
class Targets:
    campaigns: Mapping[str, Campaign]  # by slug, with their dates
    # article slug → its language (an article's slug differs per language)
    articles: Mapping[str, str]


def portal_targets(config: Config) -> Targets:
    folder = content_dir(config) or DEFAULT_CONTENT_DIR
    campaigns = {c.slug: c for c in load_campaigns(folder)}
    articles = {a.slug: a.language for a in load_articles(folder) if not a.is_page}
    return Targets(campaigns, articles)


def invite_link(
    config: Config, targets: Targets, code: str, *, campaign: str | None, article: str | None, language: str
) -> str:
    """The link for an invite; the code only in the fragment, which never reaches a server."""
    base = config.portal.public_url.rstrip("/")
    if article is not None:
        language = targets.articles.get(article, language)
        path = ROUTES["article"][language].format(slug=quote(article))  # type: ignore[index]
    elif campaign is not None:
        path = ROUTES["campaign"][language].format(slug=quote(campaign))  # type: ignore[index]
    else:
        path = ROUTES["chat"][language]  # type: ignore[index]
    return f"{base}{path}#invite={code}"
