"""create_app(settings): the whole HTTP application, built on demand."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager
from typing import Any

import structlog
from fastapi import Depends, FastAPI

from lianbo import __version__
from lianbo.aio import cancel_all
from lianbo.api.body_limits import BodyLimits
from lianbo.api.docs import install_docs
from lianbo.api.errors import install_error_handlers
from lianbo.api.fastpath import ManifestFastPath
from lianbo.api.heartbeat_fastpath import HeartbeatFastPath
from lianbo.api.metrics import RequestMetrics
from lianbo.api.openapi import install as install_openapi
from lianbo.api.routes import (
    alerts,
    assets,
    audit,
    auth,
    cap_senders,
    fleet_ws,
    health,
    manifest_versions,
    media,
    monitoring,
    programming,
    regions,
    screen_quads,
    terminal_alerts,
    terminal_reports,
    terminal_v1,
    terminals,
    uploads,
    users,
)
from lianbo.api.screenshot_fastpath import ScreenshotFastPath
from lianbo.api.text import refuse_control_characters
from lianbo.bootstrap import Container, bootstrap
from lianbo.config import Settings
from lianbo.services import duties, idempotency, manifests, monitoring_jobs
from lianbo.services.alerts import run_expiry
from lianbo.services.audit_anchoring import run as anchor_audit
from lianbo.services.ingest import run_worker

log = structlog.get_logger()

Job = Callable[[Container], Coroutine[Any, Any, None]]

# Query and path strings of every API route obey the one text rule
# (domain.text); request bodies obey it by their types (api.text). The
# console has its own, lenient guard (web.forms.ignore_control_characters).
TEXT_RULE = (Depends(refuse_control_characters),)


def create_app(
    settings: Settings | None = None,
    *,
    container: Container | None = None,
    background: Sequence[Job] = (),
) -> FastAPI:
    """Build the app; ``container`` lets tests inject a clock or a store.

    ``background`` jobs run as tasks while the server is up (monitoring
    always does; the singleton duties while this process leads: ``_lead``);
    they are cancelled at shutdown.
    """
    container = container or bootstrap(settings or Settings())
    # Role "api" never runs a job (ADR 0012): lianbo worker processes do.
    workers = (run_worker,) if container.settings.role == "all" else ()
    jobs = (monitoring_jobs.run_local, *workers, _lead, *background)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await container.fleet.start()
        await container.bus.start()  # hears events committed by other processes
        tasks = [asyncio.create_task(job(container)) for job in jobs]
        try:
            yield
        finally:
            await cancel_all(tasks)
            await container.bus.stop()
            await container.fleet.stop()
            await container.close()

    # /docs and /redoc from the package's files, not a CDN (api/docs.py).
    app = FastAPI(
        title="lianbo", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None
    )
    app.state.container = container
    install_error_handlers(app)
    install_openapi(app)
    app.add_middleware(ManifestFastPath, cache=container.manifest_cache)
    app.add_middleware(HeartbeatFastPath, container=container)
    app.add_middleware(ScreenshotFastPath, container=container)
    # Outside the fast paths: they read bodies too.
    app.add_middleware(BodyLimits, settings=container.settings)
    app.add_middleware(RequestMetrics)
    fleet_ws.install(app, container.fleet)  # WS /terminal/v1/ws, before routing
    for module in (
        auth,
        users,
        regions,
        terminals,
        screen_quads,
        terminal_v1,
        audit,
        health,
        assets,
        uploads,
        media,
        manifest_versions,
        programming,
        alerts,
        cap_senders,
        terminal_alerts,
        monitoring,
        terminal_reports,
    ):
        app.include_router(module.router, dependencies=TEXT_RULE)
    app.include_router(alerts.feed_router, dependencies=TEXT_RULE)
    install_docs(app)
    from lianbo.web import console

    console.mount(app)
    return app


async def _lead(container: Container) -> None:
    """The singleton duties: run only while this process is the leader, taken
    over by another process when it dies (ADR 0011)."""
    await duties.run(
        container.leader,
        {
            "offline sweeper": lambda: monitoring_jobs.lead(container),  # and retention
            "alert expiry": lambda: run_expiry(container),
            "manifest refresh": lambda: _refresh_manifests(container),
            "audit anchoring": lambda: anchor_audit(container),
            "idempotency keys": lambda: idempotency.run_pruning(container),  # ADR 0015
        },
    )


async def _refresh_manifests(container: Container) -> None:
    """Roll every manifest's 48-hour horizon forward (versions change at most
    once an hour, so screens re-download only when something moved)."""
    while True:
        try:
            await manifests.rebuild(container)
        except Exception:  # a failed refresh must not end the loop
            log.exception("manifest refresh failed")
        await asyncio.sleep(600)
