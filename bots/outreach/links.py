"""Where an invite link points: the portal's chat page, a campaign page or an article."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote

from keerpunt.base.config import Config
from keerpunt.site.campaigns import Campaign, load_campaigns
from keerpunt.site.content import LANGUAGES, Language, is_language, load_articles
from keerpunt.site.folder import content_dir
from keerpunt.site.routes import url, url_or_fallback


@dataclass(frozen=True)
class Targets:
    campaigns: Mapping[str, Campaign]  # by slug, with their dates
    # article slug → its language (an article's slug differs per language)
    articles: Mapping[str, Language]


def portal_targets(config: Config) -> Targets:
    folder = content_dir(config)
    campaigns = {c.slug: c for c in load_campaigns(folder)}
    articles = {a.slug: a.language for a in load_articles(folder) if not a.is_page}
    return Targets(campaigns, articles)


def invite_link(
    config: Config, targets: Targets, code: str, *, campaign: str | None, article: str | None, language: str
) -> str:
    """The link for an invite; the code only in the fragment, which never reaches a server."""
    base = config.portal.public_url.rstrip("/")
    site_language: Language = language if is_language(language) else LANGUAGES[0]
    if article is not None:
        path = url("article", targets.articles.get(article, site_language), slug=quote(article))
    elif campaign is not None:
        path = url_or_fallback("campaign", site_language, slug=quote(campaign))[0]  # campaigns: nl and en
    else:
        path = url("chat", site_language)
    return f"{base}{path}#invite={code}"
