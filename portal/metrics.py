"""Operations metrics of the portal for Prometheus (``prometheus-client``), on loopback only.

``GET http://127.0.0.1:<portal.metrics_port>/metrics`` (0 turns it off). The portal runs as
several forked workers, so the counters use prometheus-client's multiprocess mode: each worker
writes its values to files in a private folder, and the parent process serves their sum. Labels
are the route's pattern (``/{language}/{tail}``) and the status: never a path, a query, an
address or anything a visitor typed.
"""

from __future__ import annotations

import functools
import os
import shutil
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Middleware

from keerpunt.base.config import Config

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
HOST = "127.0.0.1"


@dataclass
class PortalMetrics:
    folder: str
    port: int

    def serve(self) -> None:
        """The endpoint, in a thread of the calling (parent) process."""
        from prometheus_client import CollectorRegistry, start_http_server
        from prometheus_client.multiprocess import MultiProcessCollector

        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=self.folder)  # type: ignore[no-untyped-call]
        start_http_server(self.port, addr=HOST, registry=registry)

    def close(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def enable(config: Config) -> PortalMetrics | None:
    """Before the workers fork: the shared folder, and prometheus-client in multiprocess mode."""
    if config.portal.metrics_port == 0:
        return None
    folder = tempfile.mkdtemp(prefix="keerpunt-portal-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder
    from prometheus_client import values

    values.ValueClass = values.get_value_class()  # type: ignore[no-untyped-call]  # in case it was imported before the variable was set
    return PortalMetrics(folder, config.portal.metrics_port)


def enabled() -> bool:
    """Whether this process counts (``enable`` ran in it or in the parent it was forked from)."""
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))


@functools.cache
def _instruments() -> tuple[Any, Any]:
    from prometheus_client import Counter, Histogram

    requests = Counter("keerpunt_portal_requests", "Portal answers by route pattern and status.", ["route", "status"])
    seconds = Histogram(
        "keerpunt_portal_request_seconds",
        "Time to answer, by route pattern.",
        ["route"],
        buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
    )
    return requests, seconds


def count(route: str, status: int, took: float) -> None:
    requests, seconds = _instruments()
    requests.labels(route, str(status)).inc()
    seconds.labels(route).observe(took)


def middleware() -> Middleware:
    """Counts every routed answer by route pattern and status, and times it."""
    _instruments()

    @web.middleware
    async def counting(request: web.Request, handler: Handler) -> web.StreamResponse:
        started = time.perf_counter()
        route = "unmatched"
        resource = request.match_info.route.resource
        if resource is not None:
            route = resource.canonical
        status = 500
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        finally:
            count(route, status, time.perf_counter() - started)

    return counting
