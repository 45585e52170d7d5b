"""Request counters and latency, labelled by route template (not raw path)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.requests import Request
from starlette.responses import Response

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


async def count_requests(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    started = time.perf_counter()
    response = await call_next(request)
    route = request.scope.get("route")
    template = getattr(route, "path", "unmatched")
    REQUESTS.labels(request.method, template, str(response.status_code)).inc()
    LATENCY.labels(template).observe(time.perf_counter() - started)
    return response
