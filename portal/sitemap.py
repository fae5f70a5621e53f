"""sitemap.xml (with hreflang alternates) and robots.txt."""

from __future__ import annotations

from collections.abc import Iterable

from keerpunt.site.content import LANGUAGES
from keerpunt.site.routes import url
from portal.pages import PageHTML
from portal.render import Renderer

# Pages a search engine has no business indexing: they say something about the visitor.
NOT_INDEXED = ("search", "chat")


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
    lines += ["", f"Sitemap: {r.public_url}/sitemap.xml", ""]
    return "\n".join(lines).encode("utf-8")
