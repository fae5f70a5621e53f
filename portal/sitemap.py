"""The sitemaps (one per language, with hreflang alternates, and an index of them) and robots.txt."""

from __future__ import annotations

from collections.abc import Iterable

from keerpunt.site.content import LANGUAGES, Language
from keerpunt.site.routes import url
from portal.pages import PageHTML
from portal.render import Renderer

# Pages a search engine has no business indexing: they say something about the visitor.
NOT_INDEXED = ("search", "chat")


INDEX = "/sitemap.xml"


def sitemap_path(language: Language) -> str:
    return f"/sitemap-{language}.xml"


def sitemaps(r: Renderer, rendered: Iterable[PageHTML]) -> dict[str, bytes]:
    """``/sitemap.xml`` (an index) and ``/sitemap-<lang>.xml`` for each language, by path."""
    pages = list(rendered)
    out = {sitemap_path(lang): sitemap(r, [p for p in pages if p.language == lang]) for lang in LANGUAGES}
    index = [r.public_url + sitemap_path(lang) for lang in LANGUAGES]
    out[INDEX] = r.env.get_template("sitemap-index.xml").render(sitemaps=index).encode("utf-8")
    return out


def sitemap(r: Renderer, rendered: Iterable[PageHTML]) -> bytes:
    updated = {e.path: e.article.updated.isoformat() for e in r.site.articles}
    hidden = {url(name, lang) for name in NOT_INDEXED for lang in LANGUAGES}
    urls = [
        {
            "loc": r.public_url + page.path,
            "lastmod": updated.get(page.path, ""),
            "alternates": {lang: r.public_url + path for lang, path in page.alternates.items()},
        }
        for page in sorted(rendered, key=lambda p: p.path)
        if page.path not in hidden and page.indexed
    ]
    return r.env.get_template("sitemap.xml").render(urls=urls).encode("utf-8")


def robots(r: Renderer) -> bytes:
    lines = ["User-agent: *", "Disallow: /api/"]
    lines += [f"Disallow: {url(name, lang)}" for name in NOT_INDEXED for lang in LANGUAGES]
    lines += ["", f"Sitemap: {r.public_url}{INDEX}", ""]
    return "\n".join(lines).encode("utf-8")
