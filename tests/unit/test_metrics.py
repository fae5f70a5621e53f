"""The bots' Prometheus endpoint shows the listed series and counts the session API's answers."""

from __future__ import annotations

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bots.db import Database
from bots.metrics import API_REJECTIONS, READY_SESSIONS, REGISTRY, SESSIONS_STARTED, count_api, metrics_app, refresh

SERIES = [
    "keerpunt_queue_length",
    "keerpunt_queue_oldest_waiting_seconds",
    "keerpunt_live_cases",
    "keerpunt_sessions_started_total",
    "keerpunt_ready_sessions",
    "keerpunt_sync_lag_seconds",
    "keerpunt_decryption_failures",
    "keerpunt_events_waiting_for_keys",
    "keerpunt_outbox_backlog",
    "keerpunt_later_waiting",
    "keerpunt_later_oldest_waiting_seconds",
    "keerpunt_api_rejections_total",
    "process_resident_memory_bytes",
]


def _value(name: str, **labels: str) -> float:
    value = REGISTRY.get_sample_value(name, labels or None)
    return 0.0 if value is None else value


async def test_the_endpoint_shows_every_listed_series(db: Database) -> None:
    API_REJECTIONS.labels("rate_limited")  # a labelled series shows once it has a label
    READY_SESSIONS.set(2)
    async with TestClient(TestServer(metrics_app(db))) as client:
        resp = await client.get("/metrics")
        assert resp.status == 200 and resp.content_type == "text/plain"
        text = await resp.text()
    names = {line.split("{")[0].split(" ")[0] for line in text.splitlines() if not line.startswith("#")}
    for series in SERIES:
        assert series in names, series
    assert "keerpunt_ready_sessions 2.0" in text


async def test_queue_and_outbox_come_from_the_database(db: Database) -> None:
    await db.execute(
        "INSERT INTO outbox (txn_id, seq, room_id, event_type, content, created_at, state) "
        "VALUES ('m-1', 987654, '!r:s', 'm.room.message', '{}', 0, 'pending')"
    )
    try:
        await refresh(db)
        assert _value("keerpunt_outbox_backlog") >= 1
    finally:
        await db.execute("DELETE FROM outbox WHERE txn_id='m-1'")


@pytest.mark.parametrize(
    ("status", "body", "reason"),
    [
        (429, b'{"error": "rate_limited"}', "rate_limited"),
        (403, b'{"error": "forbidden"}', "forbidden"),
        (502, b"x", "http_502"),
    ],
)
async def test_refusals_are_counted_by_their_generic_code(status: int, body: bytes, reason: str) -> None:
    async def refuse(request: web.Request) -> web.Response:
        return web.Response(status=status, body=body, content_type="application/json")

    app = web.Application(middlewares=[count_api])
    app.router.add_post("/api/v1/sessions", refuse)
    before = _value("keerpunt_api_rejections_total", reason=reason)
    async with TestClient(TestServer(app)) as client:
        assert (await client.post("/api/v1/sessions")).status == status
    assert _value("keerpunt_api_rejections_total", reason=reason) == before + 1


async def test_a_started_session_is_counted() -> None:
    async def start(request: web.Request) -> web.Response:
        return web.json_response({}, status=201)

    app = web.Application(middlewares=[count_api])
    app.router.add_post("/api/v1/sessions", start)
    before = SESSIONS_STARTED._value.get()
    async with TestClient(TestServer(app)) as client:
        assert (await client.post("/api/v1/sessions")).status == 201
    assert SESSIONS_STARTED._value.get() == before + 1


def test_the_dashboard_shows_every_series_and_only_series_that_exist() -> None:
    """deploy/grafana-dashboard.json: each keerpunt_ series it plots is one the bots or the portal
    serve, and every listed series of the bots has a panel."""
    import json
    import re
    from pathlib import Path

    dashboard = json.loads((Path(__file__).parents[2] / "deploy" / "grafana-dashboard.json").read_text())
    exprs = " ".join(t["expr"] for p in dashboard["panels"] for t in p["targets"])
    plotted = set(re.findall(r"\bkeerpunt_[a-z_]+", exprs))
    portal = {"keerpunt_portal_requests_total", "keerpunt_portal_request_seconds_bucket"}
    served = {name for name in SERIES if name.startswith("keerpunt_")} | portal
    assert plotted <= served, plotted - served
    assert {name for name in SERIES if name.startswith("keerpunt_")} <= plotted
