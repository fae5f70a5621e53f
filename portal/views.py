"""Request handlers. Pages come from the cache; only search renders per request."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass

from aiohttp import web
from aiohttp.typedefs import Handler

from keerpunt.site.content import LANGUAGES, Language
from keerpunt.site.routes import url
from portal.cache import CachedPage, fresh_response
from portal.highlight import mark, snippet
from portal.i18n import language_of_path, preferred_language
from portal.render import Renderer

log = logging.getLogger(__name__)

MAX_QUERY = 120
RESULTS = 20
# A search form holds one short field; anything much bigger is not from our form.
MAX_FORM_BYTES = 2048
# Where a search may come from: our own pages (Sec-Fetch-Site), or an Origin that is ours.
# Browsers send ``Origin: null`` with a form POST under ``Referrer-Policy: no-referrer``, so
# Sec-Fetch-Site is what tells our own form apart in practice.
SAME_SITE_FETCH = frozenset({"same-origin", "none"})


@dataclass
class Views:
    renderer: Renderer
    day: dt.date  # the day the pages were rendered for (campaigns start and end on days)
    pages: dict[str, CachedPage]
    errors: Mapping[tuple[int, Language], CachedPage]
    base_headers: Mapping[str, str]
    default: Language
    sitemaps: Mapping[str, bytes]  # by path: the index and one per language
    robots: bytes
    origin: str | None = None  # the portal's public origin (scheme://host[:port])

    def __post_init__(self) -> None:
        # Fixed pages also answer at their article address (content links use it).
        self.moved = {
            url("article", e.article.language, slug=e.article.slug): e.path
            for e in self.renderer.site.articles
            if e.article.is_page
        }

    async def page(self, request: web.Request) -> web.Response:
        cached = self.pages.get(request.path)
        if cached is not None:
            return cached.respond(request)
        target = self.moved.get(request.path)
        if target is not None:
            return self.redirect(target)
        return self.error(404, request)

    async def root(self, request: web.Request) -> web.Response:
        """``/``: the home page in the browser's language (first visit). Links carry it on from there."""
        language = preferred_language(request.headers.get("Accept-Language", ""), self.default)
        response = self.pages[url("home", language)].respond(request)
        response.headers["Vary"] = "Accept-Encoding, Accept-Language"
        return response

    def redirect(self, target: str) -> web.Response:
        return web.Response(status=301, headers={**self.base_headers, "Location": target})

    async def add_slash(self, request: web.Request) -> web.Response:
        return self.redirect(request.path + "/")

    def _language(self, request: web.Request) -> Language:
        return language_of_path(request.path, self.default)

    async def search_form(self, request: web.Request) -> web.Response:
        """GET: the empty search form. A ``?q=`` is ignored: a search never sits in an address."""
        language = self._language(request)
        return fresh_response(self.render_search(language, ""), language, self.base_headers, request)

    async def search(self, request: web.Request) -> web.Response:
        """POST from the search form (issue 23, L2): the query travels in the body only.

        The address stays ``/nl/zoeken``, so neither the address bar, the browser history nor a
        proxy's log holds what someone searched for. Rendered for every request (under a
        millisecond) and never cached, not even in memory. A search posted from another site is
        answered with the empty form (403): nobody can make this page show a text of theirs.
        """
        language = self._language(request)
        if not self._from_our_pages(request) or (request.content_length or 0) > MAX_FORM_BYTES:
            html = self.render_search(language, "")
            return fresh_response(html, language, self.base_headers, request, status=403)
        try:
            form = await request.post()
        except ValueError:  # a body that is not a form
            form = None
        value = form.get("q", "") if form is not None else ""
        query = " ".join(value.split()) if isinstance(value, str) else ""
        return fresh_response(self.render_search(language, query), language, self.base_headers, request)

    def _from_our_pages(self, request: web.Request) -> bool:
        fetch_site = request.headers.get("Sec-Fetch-Site")
        if fetch_site is not None:
            return fetch_site in SAME_SITE_FETCH
        return self.origin is not None and request.headers.get("Origin") == self.origin

    def render_search(self, language: Language, query: str) -> str:
        site = self.renderer.site
        t = site.translations[language]
        too_long = len(query) > MAX_QUERY
        results = []
        if query and not too_long:
            index = site.indexes[language]
            stem = index.analyzer.stem
            for hit in index.search(query, RESULTS):
                entry = site.by_path[hit.key]
                results.append(
                    {
                        "entry": entry,
                        "title": mark(entry.article.title, hit.stems, stem),
                        "summary": mark(entry.article.summary, hit.stems, stem),
                        "snippet": snippet(entry.text, index.body_tokens[hit.key], hit.stems, stem),
                    }
                )
        return self.renderer.render(
            "search.html",
            language,
            url("search", language),
            title=t("search.title"),
            alternates={lang: url("search", lang) for lang in LANGUAGES},  # search exists in every language
            query=query,
            too_long=too_long,
            results=results,
            indexable=False,
        )

    async def sitemap_xml(self, request: web.Request) -> web.Response:
        return web.Response(body=self.sitemaps[request.path], content_type="application/xml", charset="utf-8")

    async def robots_txt(self, request: web.Request) -> web.Response:
        return web.Response(body=self.robots, content_type="text/plain", charset="utf-8")

    def error(self, status: int, request: web.Request) -> web.Response:
        return self.errors[(status, self._language(request))].respond(request)

    @web.middleware
    async def map_errors(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """The one error middleware: site-styled 404 and 500, never a traceback.

        Cached pages never reach it (``PortalRunner`` answers them before routing), so it costs
        nothing where the portal is busiest. The dev /api/ proxy keeps plain errors.
        """
        try:
            return await handler(request)
        except web.HTTPNotFound:
            if request.path.startswith("/api/"):
                raise
            return self.error(404, request)
        except web.HTTPException:
            raise
        except Exception:
            log.exception("error while answering %s %s", request.method, request.path)
            if request.path.startswith("/api/"):
                raise
            return self.error(500, request)

    async def security_headers(self, request: web.BaseRequest, response: web.StreamResponse) -> None:
        """on_response_prepare: the item-16 headers on every response that has none of its own."""
        if "Content-Security-Policy" not in response.headers:
            response.headers.update(self.base_headers)
