"""/healthz and /metrics (Prometheus text format)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, PlainTextResponse
from sqlalchemy import text

from lianbo.api.deps import ContainerDep, UowDep
from lianbo.api.process_metrics import metrics_text

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
    """Prometheus text: terminals, alarms, ingest, requests and the cluster
    figures, every series labelled with this process (api/process_metrics.py)."""
    body = await metrics_text(container, uow)
    return PlainTextResponse(body.decode(), media_type="text/plain; version=0.0.4")
