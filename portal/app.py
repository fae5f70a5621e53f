"""The portal application: cached pages, search, static files and, in dev mode only, the /api/ proxy."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterator
from zoneinfo import ZoneInfo

from aiohttp import web

from keerpunt.base.config import Config
from keerpunt.site.campaigns import next_change, today
from keerpunt.site.content import LANGUAGES
from keerpunt.site.folder import content_dir
from keerpunt.site.routes import ROUTES
from portal import metrics
from portal.headers import security_headers
from portal.pages import cache_pages, error_pages, render_all
from portal.proxy import http_client, make_proxy
from portal.render import Renderer
from portal.site import Site, load_site
from portal.sitemap import robots, sitemaps
from portal.static import StaticFiles
from portal.views import Views
from portal.widget import Widget, add_widget_routes, origin

log = logging.getLogger(__name__)

# The calendar task wakes at least this often, so a clock that jumps cannot make it oversleep.
CALENDAR_MAX_SLEEP = 3600.0

CONFIG_KEY = web.AppKey("config", Config)
VIEWS_KEY = web.AppKey("views", Views)


def create_app(config: Config, site: Site | None = None) -> web.Application:
    """Build the portal. Loads and checks all content first unless ``site`` is given."""
    if site is None:
        site = load_site(content_dir(config))
    base_headers = security_headers(config)
    widget = Widget(config)
    renderer = Renderer(config, site, StaticFiles(), widget.embed_url)
    day = today(config.hours.timezone)
    rendered = render_all(renderer, day)
    views = Views(
        renderer=renderer,
        day=day,
        pages=cache_pages(rendered, base_headers),
        errors=error_pages(renderer, base_headers),
        base_headers=base_headers,
        default=config.languages.default,
        sitemaps=sitemaps(renderer, rendered),
        robots=robots(renderer),
        origin=origin(config.portal.public_url),
    )
    counting = [metrics.middleware()] if metrics.enabled() else []
    app = web.Application(middlewares=[*counting, views.map_errors])
    app.on_response_prepare.append(views.security_headers)
    app[CONFIG_KEY] = config
    app[VIEWS_KEY] = views
    app.cleanup_ctx.append(campaign_calendar)
    router = app.router
    if config.mode == "dev":
        # In production the reverse proxy sends /api/ to the bots and the portal never sees it
        # (keerpunt/base/routing.py): a proxy here would only be a second, unwatched way in that
        # forwards whatever headers a client sends. So it exists in dev only.
        app.cleanup_ctx.append(http_client)
        router.add_route("*", "/api/{tail:.*}", make_proxy(config))
    router.add_get("/static/{name:.+}", renderer.static.handle)
    for path in views.sitemaps:
        router.add_get(path, views.sitemap_xml)
    router.add_get("/robots.txt", views.robots_txt)
    router.add_get("/", views.root)
    for language in LANGUAGES:
        router.add_get(f"/{language}", views.add_slash)
        router.add_get(ROUTES["search"][language], views.search_form)
        router.add_post(ROUTES["search"][language], views.search)
        router.add_get(f"/{language}/{{tail:.+}}", views.page)
        router.add_get(f"/{language}/", views.page)
    add_widget_routes(app, config, widget=widget)  # /widget/… (the built chat widget) and /chat/ (its page)
    router.add_get("/{tail:.*}", views.page)  # anything else: the site's 404 page
    return app


def seconds_until(day: dt.date, timezone: str, now: dt.datetime) -> float:
    """Seconds from ``now`` to the start of ``day`` in ``timezone`` (0 when it has begun)."""
    start = dt.datetime.combine(day, dt.time(), tzinfo=ZoneInfo(timezone))
    return max(0.0, (start - now).total_seconds())


def refresh_pages(app: web.Application, day: dt.date) -> None:
    """Render the fixed pages as they are on ``day`` and swap them into the running portal.

    Only campaigns change with the day, and a page once published stays (an ended campaign
    keeps its page), so updating the page map in place never takes a page away mid-request.
    """
    views = app[VIEWS_KEY]
    rendered = render_all(views.renderer, day)
    views.pages.update(cache_pages(rendered, views.base_headers))
    views.sitemaps = sitemaps(views.renderer, rendered)
    views.day = day


async def campaign_calendar(app: web.Application) -> AsyncIterator[None]:
    """Re-render the pages on each day a campaign starts or stops running (content/campaigns.yaml)."""
    config, views = app[CONFIG_KEY], app[VIEWS_KEY]

    async def follow() -> None:
        while (change := next_change(views.renderer.site.campaigns, views.day)) is not None:
            wait = seconds_until(change, config.hours.timezone, dt.datetime.now(dt.UTC))
            if wait > 0:
                await asyncio.sleep(min(wait, CALENDAR_MAX_SLEEP))
                continue
            try:
                refresh_pages(app, today(config.hours.timezone))
            except Exception:
                # Pages stay as they were; the next wake-up tries again.
                log.exception("re-rendering the pages for a campaign's day failed")
                await asyncio.sleep(CALENDAR_MAX_SLEEP)

    task = asyncio.create_task(follow(), name="campaign calendar")
    yield
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
