"""The portal application: cached pages, search, static files and the dev /api/ proxy."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from keerpunt.config import Config
from portal import metrics
from portal.headers import security_headers
from portal.i18n import ROUTES
from portal.pages import cache_pages, error_pages, render_all
from portal.proxy import http_client, make_proxy
from portal.render import Renderer
from portal.site import Site, load_site
from portal.sitemap import robots, sitemap
from portal.static import StaticFiles
from portal.views import Views
from portal.widget import Widget, add_widget_routes

CONFIG_KEY = web.AppKey("config", Config)
VIEWS_KEY = web.AppKey("views", Views)


def content_dir(config: Config) -> Path | None:
    """``portal.content_dir`` resolved against the data directory; None for the shipped content."""
    return config.path(config.portal.content_dir) if config.portal.content_dir else None


def create_app(config: Config, site: Site | None = None) -> web.Application:
    """Build the portal. Loads and checks all content first unless ``site`` is given."""
    if site is None:
        site = load_site(content_dir(config))
    base_headers = security_headers(config)
    widget = Widget(config)
    renderer = Renderer(config, site, StaticFiles(), widget.embed_url)
    rendered = render_all(renderer)
    views = Views(
        renderer=renderer,
        pages=cache_pages(rendered, base_headers, config.languages.default),
        errors=error_pages(renderer, base_headers),
        base_headers=base_headers,
        default=config.languages.default,
        sitemap=sitemap(renderer, rendered),
        robots=robots(renderer),
    )
    counting = [metrics.middleware()] if metrics.enabled() else []
    app = web.Application(middlewares=[*counting, views.map_errors])
    app.on_response_prepare.append(views.security_headers)
    app[CONFIG_KEY] = config
    app[VIEWS_KEY] = views
    app.cleanup_ctx.append(http_client)
    router = app.router
    router.add_route("*", "/api/{tail:.*}", make_proxy(config))
    router.add_get("/static/{name:.+}", renderer.static.handle)
    router.add_get("/sitemap.xml", views.sitemap_xml)
    router.add_get("/robots.txt", views.robots_txt)
    router.add_get("/", views.page)
    for language in ("nl", "en"):
        router.add_get(f"/{language}", views.add_slash)
        router.add_get(ROUTES["search"][language], views.search)
        router.add_get(f"/{language}/{{tail:.+}}", views.page)
        router.add_get(f"/{language}/", views.page)
    add_widget_routes(app, config, widget=widget)  # /widget/… (the built chat widget) and /chat/ (its page)
    router.add_get("/{tail:.*}", views.page)  # anything else: the site's 404 page
    return app
