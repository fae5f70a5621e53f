"""Operations metrics of the bots for Prometheus (``prometheus-client``), on loopback only.

``GET http://127.0.0.1:<bots.metrics_port>/metrics`` (0 turns it off). Every series is a count
or an age over all chats together: no label or value names a case, a visitor, a room or an
address. The queue, live cases, outbox and decryption series are read from the bots' database
at each scrape (bots/db/ops.py), so they need no hooks in the concerns; the session API's
starts and rejections are counted by a middleware around it, the sync lag around the sync step.

``READY_SESSIONS`` is for the sessions concern to set (its pool of prepared sessions).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable

from aiohttp import web
from mautrix.util.async_db import Database
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.process_collector import ProcessCollector

from bots.db.ops import OpsStore

log = logging.getLogger(__name__)

REGISTRY = CollectorRegistry()
ProcessCollector(registry=REGISTRY)  # memory and CPU of the bots process

QUEUE_LENGTH = Gauge("keerpunt_queue_length", "Chats waiting in the queue for a counsellor.", registry=REGISTRY)
OLDEST_WAITING = Gauge(
    "keerpunt_queue_oldest_waiting_seconds",
    "How long the longest-waiting chat has waited (0: none).",
    registry=REGISTRY,
)
LIVE_CASES = Gauge("keerpunt_live_cases", "Chats not yet closed (being set up or open).", registry=REGISTRY)
SESSIONS_STARTED = Counter(
    "keerpunt_sessions_started", "Chats started through the session API (201 answers).", registry=REGISTRY
)
READY_SESSIONS = Gauge(
    "keerpunt_ready_sessions", "Visitor sessions prepared ahead of time and not yet handed out.", registry=REGISTRY
)
SYNC_LAG = Gauge(
    "keerpunt_sync_lag_seconds", "Seconds since the bots last finished handling a sync batch.", registry=REGISTRY
)
DECRYPTION_FAILURES = Gauge(
    "keerpunt_decryption_failures",
    "Room events the bots gave up decrypting (their key never came), on record until the case is purged.",
    registry=REGISTRY,
)
WAITING_FOR_KEYS = Gauge(
    "keerpunt_events_waiting_for_keys", "Room events the bots hold until their room key arrives.", registry=REGISTRY
)
LATER_WAITING = Gauge(
    "keerpunt_later_waiting",
    "Messages left to be answered later that no counsellor has claimed yet.",
    registry=REGISTRY,
)
OLDEST_LATER = Gauge(
    "keerpunt_later_oldest_waiting_seconds",
    "How long the oldest unclaimed message left for later has waited (0 when none).",
    registry=REGISTRY,
)
OUTBOX_BACKLOG = Gauge("keerpunt_outbox_backlog", "Messages the bots still have to send.", registry=REGISTRY)
API_REJECTIONS = Counter(
    "keerpunt_api_rejections", "Session API requests refused, by reason.", ["reason"], registry=REGISTRY
)

_last_sync = [time.monotonic()]  # when the last batch was handled (a list: set from the sync task)
SYNC_LAG.set_function(lambda: time.monotonic() - _last_sync[0])


def timed_sync(step: Callable[[], Awaitable[None]]) -> Callable[[], Awaitable[None]]:
    """``step`` that records when a sync batch was last handled completely."""

    async def run() -> None:
        await step()
        _last_sync[0] = time.monotonic()

    return run


@web.middleware
async def count_api(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Outermost around the session API: count starts and refusals by their generic error code."""
    response = await handler(request)
    if response.status >= 400:
        API_REJECTIONS.labels(_reason(response)).inc()
    elif response.status == 201 and request.path == "/api/v1/sessions":
        SESSIONS_STARTED.inc()
    return response


def _reason(response: web.StreamResponse) -> str:
    body = response.body if isinstance(response, web.Response) else None
    try:
        code = json.loads(body)["error"] if isinstance(body, bytes) else None
    except (ValueError, KeyError, TypeError):
        code = None
    return code if isinstance(code, str) and code.isidentifier() else f"http_{response.status}"


async def refresh(db: Database, now_ms: int | None = None) -> None:
    counts = await OpsStore(db).counts()
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    QUEUE_LENGTH.set(counts.waiting)
    oldest = counts.oldest_waiting_since
    OLDEST_WAITING.set(0 if oldest is None else max(0, now_ms - oldest) / 1000)
    LATER_WAITING.set(counts.later)
    oldest = counts.oldest_later_since
    OLDEST_LATER.set(0 if oldest is None else max(0, now_ms - oldest) / 1000)
    LIVE_CASES.set(counts.live_cases)
    OUTBOX_BACKLOG.set(counts.outbox_pending)
    DECRYPTION_FAILURES.set(counts.undecryptable)
    WAITING_FOR_KEYS.set(counts.waiting_for_keys)


def metrics_app(db: Database) -> web.Application:
    async def metrics(request: web.Request) -> web.Response:
        await refresh(db)
        return web.Response(body=generate_latest(REGISTRY), headers={"Content-Type": CONTENT_TYPE_LATEST})

    app = web.Application()
    app.router.add_get("/metrics", metrics)
    return app


class MetricsServer:
    """The endpoint's HTTP server, on 127.0.0.1 only: never reachable from outside the machine."""

    HOST = "127.0.0.1"

    def __init__(self, db: Database, port: int) -> None:
        self.runner = web.AppRunner(metrics_app(db), access_log=None)
        self.port = port

    async def start(self) -> None:
        await self.runner.setup()
        await web.TCPSite(self.runner, self.HOST, self.port).start()
        log.info("Metrics on loopback port %d (/metrics)", self.port)

    async def stop(self) -> None:
        await self.runner.cleanup()
