"""Request counters and latency, labelled by route template (not raw path)."""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lianbo.api.errors import CLIENT_CLOSED

REQUESTS_REGISTRY = CollectorRegistry()
REQUESTS = Counter(
    "lianbo_http_requests",
    "HTTP requests",
    ["method", "route", "status"],
    registry=REQUESTS_REGISTRY,
)
CLIENT_ABORTS = Counter(
    "lianbo_http_client_aborts",
    "Requests the client abandoned before the answer (status 499, not server errors)",
    ["method", "route"],
    registry=REQUESTS_REGISTRY,
)
LATENCY = Histogram(
    "lianbo_http_request_seconds",
    "HTTP request latency",
    ["route"],
    registry=REQUESTS_REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)


class RequestMetrics:
    """Pure ASGI middleware counting requests by route template.

    Not ``BaseHTTPMiddleware``: that wraps every response in a task and a
    stream, which costs more than the 304 answer screens poll for.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", "unmatched")
            REQUESTS.labels(scope["method"], template, str(status)).inc()
            if status == CLIENT_CLOSED:
                CLIENT_ABORTS.labels(scope["method"], template).inc()
            LATENCY.labels(template).observe(time.perf_counter() - started)


def monitoring_metrics(
    counters: Any, notifier: Any, open_alarms: list[tuple[str, str, int]]
) -> CollectorRegistry:
    """Monitoring figures as a registry: open alarms by type and severity,
    ingest counters (heartbeats, play-log rows, screenshots by verdict) and
    webhook deliveries. ``counters`` is ``services.monitoring.Counters``."""
    registry = CollectorRegistry()
    alarms = Gauge(
        "lianbo_alarms_open", "Alarms not yet resolved", ["type", "severity"], registry=registry
    )
    for kind, severity, count in open_alarms:
        alarms.labels(type=kind, severity=severity).set(count)
    totals = (
        ("lianbo_heartbeats_ingested", "Heartbeats accepted", counters.heartbeats),
        ("lianbo_heartbeats_rate_limited", "Heartbeats refused (429)", counters.heartbeats_limited),
        ("lianbo_playlog_rows_ingested", "Play-log rows stored", counters.playlog_rows),
        ("lianbo_playlog_rows_rejected", "Play-log rows rejected", counters.playlog_rejected),
        ("lianbo_webhooks_delivered", "Alarm webhooks delivered", notifier.delivered),
        ("lianbo_webhooks_failed", "Alarm webhook attempts that failed", notifier.failed),
    )
    for name, text, value in totals:
        Counter(name, text, registry=registry).inc(value)
    shots = Counter(
        "lianbo_screenshots_verified", "Screenshots verified", ["verdict"], registry=registry
    )
    for verdict, count in counters.verdicts.items():
        shots.labels(verdict=verdict).inc(count)
    return registry
