"""Request counters and latency, labelled by route template (not raw path)."""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUESTS_REGISTRY = CollectorRegistry()
REQUESTS = Counter(
    "lianbo_http_requests",
    "HTTP requests",
    ["method", "route", "status"],
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
            LATENCY.labels(template).observe(time.perf_counter() - started)
