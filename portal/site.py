"""The site's content, loaded and checked once at start-up: articles, campaigns, search."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from markupsafe import Markup

from keerpunt.site.campaigns import Campaign, load_campaigns
from keerpunt.site.content import FALLBACK, FULL_LANGUAGES, LANGUAGES, Article, ContentError, Language, load_articles
from keerpunt.site.folder import DEFAULT_CONTENT_DIR
from keerpunt.site.routes import url
from portal.i18n import Translations, load_translations
from portal.markup import plain_text, render_markdown
from portal.search import Document, SearchIndex

RELATED = 3


@dataclass(frozen=True)
class Entry:
    """An article with its rendered body and its address."""

    article: Article
    html: Markup
    text: str
    path: str


@dataclass
class Site:
    articles: list[Entry]
    campaigns: list[Campaign]
    translations: Mapping[Language, Translations]
    by_path: dict[str, Entry] = field(default_factory=dict)
    by_key: dict[tuple[Language, str], Entry] = field(default_factory=dict)
    indexes: dict[Language, SearchIndex] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for entry in self.articles:
            a = entry.article
            self.by_path[entry.path] = entry
            self.by_key[(a.language, a.translation_key)] = entry
        for language in LANGUAGES:
            docs = [
                Document(e.path, e.article.title, e.article.summary, e.text)
                for e in self.articles
                if e.article.language == language
            ]
            self.indexes[language] = SearchIndex(language, docs)

    def listed(self, language: Language) -> list[Entry]:
        """The articles of a language (without the fixed pages), by title.

        A language with a core set of pages also lists every other article, in English, so a
        reader can still find it; the templates mark those (``entry.article.language != lang``).
        """
        own = [e for e in self.articles if e.article.language == language and not e.article.is_page]
        keys = {e.article.translation_key for e in own}
        if language not in FULL_LANGUAGES:
            own += [
                e
                for e in self.articles
                if e.article.language == FALLBACK and not e.article.is_page and e.article.translation_key not in keys
            ]
        return sorted(own, key=lambda e: (e.article.language != language, e.article.title.casefold()))

    def page(self, language: Language, key: str) -> Entry:
        return self.by_key[(language, key)]

    def versions(self, entry: Entry) -> dict[Language, Entry]:
        """The article in every language it exists in (itself included)."""
        key = entry.article.translation_key
        return {lang: self.by_key[(lang, key)] for lang in LANGUAGES if (lang, key) in self.by_key}

    def for_audience(self, language: Language, audience: str) -> list[Entry]:
        """Articles for an audience; those written only for it first."""
        entries = [e for e in self.listed(language) if audience in e.article.audience]
        return sorted(entries, key=lambda e: len(e.article.audience))

    def for_topic(self, language: Language, topic: str) -> list[Entry]:
        return [e for e in self.listed(language) if topic in e.article.topics]

    def related(self, entry: Entry, limit: int = RELATED) -> list[Entry]:
        a = entry.article

        def score(other: Entry) -> int:
            b = other.article
            return 2 * len(set(a.topics) & set(b.topics)) + len(set(a.audience) & set(b.audience))

        others = [e for e in self.listed(a.language) if e.article.translation_key != a.translation_key]
        ranked = sorted(others, key=lambda e: (-score(e), e.article.title.casefold()))
        return [e for e in ranked if score(e) > 0][:limit]

    def campaign(self, slug: str) -> Campaign | None:
        return next((c for c in self.campaigns if c.slug == slug), None)


def article_path(article: Article) -> str:
    if article.is_page:
        return url(article.translation_key, article.language)
    return url("article", article.language, slug=article.slug)


def load_site(content_dir: Path | None = None) -> Site:
    """Load and check everything; a ContentError names the file and field at fault."""
    folder = content_dir or DEFAULT_CONTENT_DIR
    articles = load_articles(folder)
    # Links to a fixed page's article address point straight at its own address (no redirect).
    moved = {
        f'href="{url("article", a.language, slug=a.slug)}"': f'href="{article_path(a)}"' for a in articles if a.is_page
    }
    entries = []
    for article in articles:
        html = render_markdown(article.body)
        for old, new in moved.items():
            html = Markup(str(html).replace(old, new))  # noqa: S704 - swaps one safe attribute for another
        entries.append(Entry(article, html, plain_text(html), article_path(article)))
    campaigns = load_campaigns(folder)
    keys = {(a.language, a.translation_key) for a in articles}
    for i, campaign in enumerate(campaigns):
        for j, key in enumerate(campaign.articles):
            missing = [lang for lang in FULL_LANGUAGES if (lang, key) not in keys]
            if missing:
                raise ContentError(
                    folder / "campaigns.yaml", f"campaigns[{i}].articles[{j}]", f"no {missing[0]} article {key!r}"
                )
    return Site(entries, campaigns, load_translations())
