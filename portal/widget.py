"""Serve the chat widget: its built files under ``/widget/`` and the chat app's page at ``/chat/``.

``widget/dist`` comes from ``make -C widget build``: hashed assets (cached for a year), the
embed script at a stable name (``embed.js``, revalidated, for host pages) and a hashed copy
for the portal's own pages, each with precompressed ``.br``/``.gz`` siblings, and
``keerpunt-widget.json`` naming the files. The chat page is the only place whose CSP allows
``'wasm-unsafe-eval'`` (the Rust crypto) and a ``connect-src`` to the homeserver. It is
``no-store`` and may be framed only by the portal itself and ``portal.frame_ancestors``.

Hook it into the portal with ``add_widget_routes(app, config)``.
"""

from __future__ import annotations

import html
import json
import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from keerpunt.base.config import Config
from keerpunt.base.hours import WEEKDAYS, OpeningHours, around_the_clock
from keerpunt.site.content import LANGUAGES, Language, direction, is_language

log = logging.getLogger(__name__)

DIST = Path(__file__).resolve().parent.parent / "widget" / "dist"
MANIFEST = "keerpunt-widget.json"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "public, max-age=300, must-revalidate"
# Vite's `name-<8 chars>.ext` and postbuild's `embed.<12 hex>.js`.
HASHED = re.compile(r"(?:-[A-Za-z0-9_-]{8}|\.[0-9a-f]{12})\.[a-z0-9]+$")
TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".wasm": "application/wasm",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".woff2": "font/woff2",
    ".png": "image/png",
}


@dataclass(frozen=True)
class Manifest:
    embed: str
    chat_script: str
    chat_css: tuple[str, ...]
    # What the chat loads once the visitor asked for it: the SDK's and crypto's JS chunks, the .wasm.
    warm_modules: tuple[str, ...] = ()
    warm_wasm: tuple[str, ...] = ()


def load_manifest(dist: Path) -> Manifest | None:
    try:
        data = json.loads((dist / MANIFEST).read_text("utf-8"))
        warm = data["chat"].get("warm", {})
        return Manifest(
            embed=str(data["embed"]),
            chat_script=str(data["chat"]["script"]),
            chat_css=tuple(str(c) for c in data["chat"]["css"]),
            warm_modules=tuple(str(m) for m in warm.get("modules", ())),
            warm_wasm=tuple(str(w) for w in warm.get("wasm", ())),
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("chat widget not built (%s); run `make -C widget build`", type(exc).__name__)
        return None


def origin(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


@dataclass
class Widget:
    config: Config
    dist: Path = DIST
    manifest: Manifest | None = None
    files: dict[str, Path] = field(default_factory=dict)
    frame_origins: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        self.manifest = load_manifest(self.dist)
        if self.manifest is not None:
            for path in self.dist.rglob("*"):
                rel = path.relative_to(self.dist).as_posix()
                if path.is_file() and not rel.startswith(".") and rel != MANIFEST and path.suffix not in (".br", ".gz"):
                    self.files[rel] = path
        portal = origin(self.config.portal.public_url)
        extra = [o for o in (origin(a) for a in self.config.portal.frame_ancestors) if o]
        self.frame_origins = tuple(dict.fromkeys([*([portal] if portal else []), *extra]))

    @property
    def embed_url(self) -> str | None:
        """The hashed embed script for the portal's own pages (None until the widget is built)."""
        return f"/widget/{self.manifest.embed}" if self.manifest else None

    # -- files -----------------------------------------------------------------------------
    async def file(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["path"]
        path = self.files.get(name)
        if path is None:
            raise web.HTTPNotFound()
        headers = {
            "Content-Type": TYPES.get(path.suffix, "application/octet-stream"),
            "Cache-Control": IMMUTABLE if HASHED.search(name) else REVALIDATE,
            "X-Content-Type-Options": "nosniff",
            # The embed script is loaded by other sites' pages; the rest only by ours.
            "Cross-Origin-Resource-Policy": "cross-origin" if name.startswith("embed") else "same-origin",
        }
        # FileResponse sends the precompressed .br/.gz sibling when Accept-Encoding allows it
        # (keeping our Content-Type), with ETag, Last-Modified and ranges.
        return web.FileResponse(path, headers=headers)

    # -- the chat page -----------------------------------------------------------------------
    def content_security_policy(self) -> str:
        homeserver = origin(self.config.homeserver.public_url) or ""
        ancestors = " ".join(["'self'", *self.frame_origins])
        return "; ".join(
            [
                "default-src 'self'",
                # The Rust crypto is WebAssembly: compiling it needs 'wasm-unsafe-eval' (never 'unsafe-eval').
                "script-src 'self' 'wasm-unsafe-eval'",
                "style-src 'self'",
                "img-src 'self'",
                "font-src 'self'",
                f"connect-src 'self' {homeserver}".strip(),
                # The proof of work before a start runs in Web Workers of the widget's own files.
                "worker-src 'self'",
                "frame-src 'none'",
                "form-action 'none'",
                "object-src 'none'",
                "base-uri 'none'",
                f"frame-ancestors {ancestors}",
            ]
        )

    def page_headers(self) -> dict[str, str]:
        headers = {
            "Content-Type": "text/html; charset=utf-8",
            "Content-Security-Policy": self.content_security_policy(),
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
        }
        if self.config.portal.public_url.startswith("https://"):
            headers["Strict-Transport-Security"] = "max-age=63072000"
        return headers

    def page_config(self, language: str, host: str | None, now: datetime, page_header: bool = False) -> dict[str, Any]:
        opening = OpeningHours(self.config.hours)
        open_now = opening.is_open(now)
        next_opening = None if open_now else opening.next_opening(now)
        return {
            "language": language,
            "api": "/api/v1",
            "homeserver": self.config.homeserver.public_url.rstrip("/"),
            "quick_exit_url": self.config.portal.quick_exit_url,
            "portal_url": f"/{language}/",
            "hours": {lang: self.hours_text(opening, lang) for lang in LANGUAGES},
            "open_now": open_now,
            "opens_at": next_opening.isoformat() if next_opening else None,
            "host": host,
            # Inline in the portal's own page: that page's header is the chat's (widget config.ts).
            "page_header": page_header,
            **self.return_code_config(),
        }

    def return_code_config(self) -> dict[str, Any]:
        """The return code's switch (docs/return-code.md): the widget offers a code only when it is on."""
        code = self.config.return_code
        if not code.enabled:
            return {"return_code": False}
        out: dict[str, Any] = {
            "return_code": True, "return_code_days": code.valid_days, "return_code_tries": code.max_wrong,
        }  # fmt: skip
        later = self.config.async_
        if later.enabled:  # write now, answered later (docs/write-later.md); needs the code
            out |= {"later_after_minutes": later.offer_after_minutes, "later_answer_hours": later.answer_within_hours}
        return out

    def hours_text(self, opening: OpeningHours, language: str) -> str:
        """The start screen's hours line: the weekly hours, or that dev keeps the chat open."""
        if around_the_clock(self.config.mode, self.config.hours):
            dev = catalogue(self.dist, language).get("hours_dev")
            if isinstance(dev, str):
                return dev
        return weekly_hours(opening, self.config.hours.closed_on_public_holidays, language, self.dist)

    async def chat_page(self, request: web.Request) -> web.Response:
        wanted = request.query.get("lang", "")
        language: Language = wanted if is_language(wanted) else self.config.languages.default
        host = origin(request.query.get("host", ""))
        if host not in self.frame_origins:
            host = None
        # Inline in the portal's own chat page, that page's "Snel weg" and header (language switch)
        # are the chat's: one of each, not two (issue 29). Anywhere else (a partner's page, the
        # launcher's frame, /chat/ alone) the chat has its own.
        inline = request.query.get("embed") == "inline"
        in_portal = inline and host is not None and host == origin(self.config.portal.public_url)
        texts = page_texts(self.dist, language)
        exit_url = html.escape(self.config.portal.quick_exit_url)
        head = []
        body_main = f"<p>{html.escape(texts['unavailable'])}</p>"
        if self.manifest is not None:
            head = [f'<link rel="stylesheet" href="/widget/{html.escape(css)}">' for css in self.manifest.chat_css]
            head.append(f'<script type="module" src="/widget/{html.escape(self.manifest.chat_script)}"></script>')
            if request.query.get("warm") == "1":
                head.extend(self.warm_links())
            body_main = f"<noscript><p>{html.escape(texts['noscript'])}</p></noscript>"
        page_config = self.page_config(language, host, datetime.now(UTC), page_header=in_portal)
        data = json.dumps(page_config, ensure_ascii=True).replace("<", "\\u003c")
        page = "\n".join(
            [
                "<!doctype html>",
                f'<html lang="{language}" dir="{direction(language)}">',
                "<head>",
                '<meta charset="utf-8">',
                '<meta name="viewport" content="width=device-width, initial-scale=1">',
                '<meta name="referrer" content="no-referrer">',
                '<meta name="robots" content="noindex">',
                f"<title>{html.escape(texts['title'])}</title>",
                *head,
                "</head>",
                "<body>",
                (
                    f'<a class="kp-quick-exit" id="kp-quick-exit" href="{exit_url}" rel="noreferrer" target="_top">'
                    f"{html.escape(texts['quick_exit'])}</a>"
                    if not in_portal
                    else ""
                ),
                f'<main id="kp-app">{body_main}</main>',
                f'<script type="application/json" id="keerpunt-config">{data}</script>',
                "</body>",
                "</html>",
            ]
        )
        return web.Response(body=page.encode("utf-8"), headers=self.page_headers())

    def warm_links(self) -> list[str]:
        """Opened from the launcher (``warm=1``, embed.ts): the visitor asked for the chat, so the
        SDK, the crypto and its .wasm load at once beside the start screen's script instead of
        after it ran (main.ts asks for them then: these are the requests it would make).
        Nothing here makes a session; that waits for "Start"."""
        assert self.manifest is not None
        links = [f'<link rel="modulepreload" href="/widget/{html.escape(m)}">' for m in self.manifest.warm_modules]
        # as=fetch with crossorigin: exactly the request the crypto's initAsync() makes, so it is used.
        links += [
            f'<link rel="preload" href="/widget/{html.escape(w)}" as="fetch" type="application/wasm" crossorigin>'
            for w in self.manifest.warm_wasm
        ]
        return links

    async def chat_redirect(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPMovedPermanently("/chat/" + (f"?{request.query_string}" if request.query_string else ""))


# Used only when the widget's locale files are missing (an unbuilt checkout); otherwise the
# texts come from widget/src/app/locales/<lang>.json, in every language.
FALLBACK_TEXTS = {
    "nl": {
        "title": "Keerpunt – anoniem chatten",
        "quick_exit": "Snel weg",
        "noscript": "Voor de beveiligde chat is JavaScript nodig.",
        "unavailable": "De chat is nu niet beschikbaar.",
    },
    "en": {
        "title": "Keerpunt – anonymous chat",
        "quick_exit": "Quick exit",
        "noscript": "The secure chat needs JavaScript.",
        "unavailable": "The chat is not available right now.",
    },
}


def catalogue(dist: Path, language: str) -> dict[str, Any]:
    """The widget's translation file for a language (empty when missing)."""
    source = dist.parent / "src" / "app" / "locales" / f"{language}.json"
    try:
        data = json.loads(source.read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def weekly_hours(opening: OpeningHours, holidays_closed: bool, language: str, dist: Path) -> str:
    """``ma-vr 09:00-21:00, za 12:00-18:00. Op feestdagen is de chat dicht.``: equal days grouped."""
    texts = catalogue(dist, language)
    names = str(texts.get("hours_days", "")).split(",")
    if len(names) != len(WEEKDAYS):
        names = [d[:2] for d in WEEKDAYS]
    spans = [
        ", ".join(f"{r.start:%H:%M}\u2013{r.end:%H:%M}" if r.end else f"{r.start:%H:%M}\u201324:00" for r in day)
        for day in opening.weekly
    ]
    groups: list[tuple[int, int, str]] = []
    for i, span in enumerate(spans):
        if groups and groups[-1][2] == span and groups[-1][1] == i - 1:
            groups[-1] = (groups[-1][0], i, span)
        else:
            groups.append((i, i, span))
    parts = [f"{names[a]}\u2013{names[b]} {span}" if b > a else f"{names[a]} {span}" for a, b, span in groups if span]
    text = ", ".join(parts) + "." if parts else ""
    if holidays_closed and isinstance(texts.get("hours_holidays"), str):
        text = f"{text} {texts['hours_holidays']}".strip()
    return text


def page_texts(dist: Path, language: str) -> dict[str, str]:
    """The few texts the server writes into the page, from the widget's translation files."""
    texts = dict(FALLBACK_TEXTS.get(language, FALLBACK_TEXTS["en"]))
    catalogue_ = catalogue(dist, language)
    if not catalogue_:
        return texts
    for ours, theirs in (
        ("title", "page_title"),
        ("quick_exit", "quick_exit"),
        ("noscript", "noscript"),
        ("unavailable", "unavailable"),
    ):
        if isinstance(catalogue_.get(theirs), str):
            texts[ours] = catalogue_[theirs]
    return texts


WIDGET_KEY = web.AppKey("widget", Widget)


def add_widget_routes(app: web.Application, config: Config, dist: Path = DIST, widget: Widget | None = None) -> Widget:
    """Serve ``/widget/…`` and ``/chat/``; returns the Widget (``embed_url`` for templates)."""
    widget = widget or Widget(config, dist)
    app[WIDGET_KEY] = widget
    app.router.add_get("/widget/{path:.+}", widget.file)
    app.router.add_get("/chat/", widget.chat_page)
    app.router.add_get("/chat", widget.chat_redirect)
    return widget
