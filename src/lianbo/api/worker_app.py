"""The worker's small HTTP face: /metrics and /healthz only (``lianbo worker
--metrics-port``), so Prometheus scrapes workers like API processes."""

from __future__ import annotations

from fastapi import FastAPI

from lianbo.api.errors import install_error_handlers
from lianbo.api.routes import health
from lianbo.bootstrap import Container


def create_worker_app(container: Container) -> FastAPI:
    """/metrics and /healthz over ``container``; no console, no API."""
    app = FastAPI(title="lianbo worker", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.container = container
    install_error_handlers(app)
    app.include_router(health.router)
    return app
