"""/healthz and /metrics (Prometheus text format)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CollectorRegistry, Gauge, generate_latest
from sqlalchemy import text

from lianbo.api.deps import ContainerDep, UowDep
from lianbo.api.metrics import REQUESTS_REGISTRY, monitoring_metrics

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz(uow: UowDep) -> JSONResponse:
    """200 when the database answers, 503 when it does not."""
    try:
        await uow.session.execute(text("SELECT 1"))
    except Exception as error:
        return JSONResponse({"status": "error", "database": str(error)[:200]}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})


@router.get("/metrics", response_class=PlainTextResponse)
async def metrics(container: ContainerDep, uow: UowDep) -> PlainTextResponse:
    """Terminal counts by tier and status, plus request counters."""
    registry = CollectorRegistry()
    terminals = Gauge(
        "lianbo_terminals",
        "Live terminals by tier and status",
        ["tier", "status"],
        registry=registry,
    )
    for tier, status, count in await uow.terminals.counts_by(""):
        terminals.labels(tier=tier, status=status).set(count)
    audit_seq, _ = await uow.audit.head()
    Gauge("lianbo_audit_entries", "Entries in the audit chain", registry=registry).set(audit_seq)
    monitor = container.monitor  # online counts above; alarms and ingest here
    watched = monitoring_metrics(monitor.counters, monitor.notifier, await uow.alarms.open_counts())
    body = generate_latest(registry) + watched + generate_latest(REQUESTS_REGISTRY)
    return PlainTextResponse(body.decode(), media_type="text/plain; version=0.0.4")
