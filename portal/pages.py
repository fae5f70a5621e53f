"""Every fixed page of the site, rendered once at start-up into the page cache."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from keerpunt.site.content import AUDIENCES, FALLBACK, FULL_LANGUAGES, LANGUAGES, PAGE_KEYS, TOPICS, Language
from keerpunt.site.routes import has_route, url
from portal.cache import PRIVATE, PUBLIC, CachedPage
from portal.markup import render_markdown
from portal.render import Renderer
from portal.site import Entry

# Self-check statements that on their own point to the serious result (see self-check.js).
SERIOUS = ("afraid", "threatened")


@dataclass(frozen=True)
class PageHTML:
    path: str
    language: Language
    html: str
    cache: str
    alternates: Mapping[Language, str]
    indexed: bool = True


def _page(
    r: Renderer, template: str, lang: Language, path: str, alternates: Mapping[Language, str], **context: Any
) -> PageHTML:
    cache = context.pop("cache", PUBLIC)
    html = r.render(template, lang, path, alternates=alternates, **context)
    return PageHTML(path, lang, html, cache, alternates, indexed=context.get("indexable", True))


def _both(name: str, **parts: str) -> dict[Language, str]:
    """The page's address in every language that has it (hreflang alternates, language switch)."""
    return {lang: url(name, lang, **parts) for lang in LANGUAGES if has_route(name, lang)}


def _home(r: Renderer, lang: Language, day: dt.date) -> Iterator[PageHTML]:
    t = r.site.translations[lang]
    running = [c for c in r.site.campaigns if c.running(day)] if lang in FULL_LANGUAGES else []
    yield _page(r, "home.html", lang, url("home", lang), _both("home"), title=t("home.title"), campaigns=running)


def _audiences(r: Renderer, lang: Language) -> Iterator[PageHTML]:
    t = r.site.translations[lang]
    for audience in AUDIENCES:
        yield _page(
            r,
            "audience.html",
            lang,
            url("audience", lang, audience=audience),
            _both("audience", audience=audience),
            title=t(f"audiences.{audience}.title"),
            description=t(f"audiences.{audience}.lead"),
            audience=audience,
            entries=r.site.for_audience(lang, audience),
        )


def _topics(r: Renderer, lang: Language) -> Iterator[PageHTML]:
    t = r.site.translations[lang]
    counts = {topic: len(r.site.for_topic(lang, topic)) for topic in TOPICS}
    yield _page(r, "topics.html", lang, url("topics", lang), _both("topics"), title=t("topics.title"), counts=counts)
    for topic in TOPICS:
        entries = r.site.for_topic(lang, topic)
        if entries:
            alternates = {o: url("topic", o, topic=topic) for o in LANGUAGES if r.site.for_topic(o, topic)}
            path = url("topic", lang, topic=topic)
            yield _page(
                r, "topic.html", lang, path, alternates, title=t(f"topics.names.{topic}"), topic=topic, entries=entries
            )


def _article(r: Renderer, entry: Entry) -> PageHTML:
    a = entry.article
    alternates = {lang: e.path for lang, e in r.site.versions(entry).items()}
    return _page(
        r,
        "page.html" if a.is_page else "article.html",
        a.language,
        entry.path,
        alternates,
        title=a.title,
        description=a.summary,
        entry=entry,
        related=r.site.related(entry),
        retention_days=r.config.retention.case_room_days,
        address_days=r.config.synapse.user_ips_max_age_days,
        return_code=r.config.return_code if r.config.return_code.enabled else None,
        later=r.config.async_ if r.config.async_.enabled and r.config.return_code.enabled else None,
    )


def _campaigns(r: Renderer, lang: Language, day: dt.date) -> Iterator[PageHTML]:
    """Campaigns from their first day on; an ended one keeps its page for old links, unindexed."""
    for campaign in r.site.campaigns:
        if not campaign.published(day):
            continue
        text = campaign.texts[lang]
        yield _page(
            r,
            "campaign.html",
            lang,
            url("campaign", lang, slug=campaign.slug),
            {o: url("campaign", o, slug=campaign.slug) for o in FULL_LANGUAGES},
            title=text.title,
            description=text.summary,
            campaign=campaign,
            text=text,
            body=render_markdown(text.body),
            reading=[r.site.by_key[(lang, key)] for key in campaign.articles],
            indexable=campaign.running(day),
        )


def _selfcheck_and_chat(r: Renderer, lang: Language) -> Iterator[PageHTML]:
    t = r.site.translations[lang]
    yield _page(
        r,
        "selfcheck.html",
        lang,
        url("selfcheck", lang),
        _both("selfcheck"),
        title=t("selfcheck.title"),
        description=t("selfcheck.lead"),
        questions=t.get("selfcheck.questions"),
        serious=SERIOUS,
        signals=r.site.by_key.get((lang, "signals-young")),
    )
    yield _page(
        r,
        "chat.html",
        lang,
        url("chat", lang),
        _both("chat"),
        title=t("chat.title"),
        description=t("chat.lead"),
        cache=PRIVATE,
        indexable=False,
        # "What happens when you chat": in English where the language lacks it (marked so).
        chat_info=r.site.by_key.get((lang, "chat")) or r.site.by_key.get((FALLBACK, "chat")),
    )


def render_all(r: Renderer, day: dt.date) -> list[PageHTML]:
    """Every fixed page as it is on ``day`` (campaigns start and end on days)."""
    rendered: list[PageHTML] = []
    for lang in LANGUAGES:
        rendered.extend(_home(r, lang, day))
        for part in (_audiences, _topics):
            rendered.extend(part(r, lang))
        if lang in FULL_LANGUAGES:  # campaigns have Dutch and English texts only
            rendered.extend(_campaigns(r, lang, day))
        rendered.extend(_selfcheck_and_chat(r, lang))
    rendered.extend(_article(r, entry) for entry in r.site.articles)
    paths = {p.path for p in rendered}
    expected = [url(key, lang) for key in PAGE_KEYS for lang in LANGUAGES if has_route(key, lang)]
    missing = [path for path in expected if path not in paths]
    if missing:
        raise AssertionError(f"fixed pages missing: {missing}")  # load_articles checks this first
    return rendered


def cache_pages(rendered: list[PageHTML], base_headers: Mapping[str, str]) -> dict[str, CachedPage]:
    # "/" is not among them: it answers in the visitor's language (Views.root).
    return {p.path: CachedPage.build(p.html, p.language, base_headers, cache=p.cache) for p in rendered}


def error_pages(r: Renderer, base_headers: Mapping[str, str]) -> dict[tuple[int, Language], CachedPage]:
    out = {}
    for lang in LANGUAGES:
        t = r.site.translations[lang]
        for status, key in ((404, "not_found"), (500, "server")):
            html = r.render(
                "error.html",
                lang,
                url("home", lang),
                title=t(f"errors.{key}_title"),
                alternates=_both("home"),
                status=status,
                key=key,
                indexable=False,
            )
            out[(status, lang)] = CachedPage.build(html, lang, base_headers, status=status, cache=PRIVATE)
    return out
