"""/healthz (readiness) and /metrics (Prometheus text format)."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter
from fastapi.responses import JSONResponse, PlainTextResponse

from lianbo.adapters.db.engine import answers
from lianbo.api.deps import ContainerDep, UowDep
from lianbo.api.process_metrics import metrics_text
from lianbo.services.readiness import STORE, report, run_checks

router = APIRouter(tags=["health"])

# Well under HAProxy's check timeout (deploy/haproxy/haproxy.cfg): a store that
# does not answer in this long counts as down, and the probe still answers.
STORE_TIMEOUT_S = 2.0


@router.get("/healthz")
async def healthz(container: ContainerDep) -> JSONResponse:
    """Readiness: 200 when the store and every named check are ready, else
    503 naming what is not (``not_ready``); facts such as leadership ride along."""
    results = {STORE: await answers(container.engine, STORE_TIMEOUT_S)}
    results |= run_checks(container.health_checks)
    not_ready = container.readiness.judge(results)
    body = report(results, not_ready)
    if container.health_info:
        body["info"] = _info(container.health_info)
    return JSONResponse(body, status_code=503 if not_ready else 200)


def _info(facts: dict[str, Callable[[], object]]) -> dict[str, object]:
    """Each fact's value; one that cannot be had reads null."""
    values: dict[str, object] = {}
    for name, fact in facts.items():
        try:
            values[name] = fact()
        except Exception:  # a fact is informative; it never fails the probe
            values[name] = None
    return values


@router.get("/metrics", response_class=PlainTextResponse)
async def metrics(container: ContainerDep, uow: UowDep) -> PlainTextResponse:
    """Prometheus text: terminals, alarms, ingest, requests and the cluster
    figures, every series labelled with this process (api/process_metrics.py)."""
    body = await metrics_text(container, uow)
    return PlainTextResponse(body.decode(), media_type="text/plain; version=0.0.4")
