"""Reports: uptime per region and tier over time, play counts per asset and
region (charts, and CSV for the regulator's spreadsheet)."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from lianbo.api.deps import ContainerDep, UowDep
from lianbo.domain.errors import DomainError, NotFound
from lianbo.domain.regions import normalise_code
from lianbo.domain.users import Actor
from lianbo.services import monitoring_reads, playlog, presence
from lianbo.services.context import UnitOfWork
from lianbo.services.regions import region_names
from lianbo.web.forms import query_text
from lianbo.web.pages.report_charts import uptime_chart
from lianbo.web.render import LOCAL_ZONE, SECURITY_HEADERS, render
from lianbo.web.session import ConsoleDep

router = APIRouter(include_in_schema=False)

PERIODS = (1, 7, 30)
TOP_ASSETS = 20
GROUPS = ("asset", "region")


def _period(params: Any) -> int:
    raw = query_text(params, "days", 4)
    return int(raw) if raw.isdigit() and int(raw) in PERIODS else 7


def _region(actor: Actor, params: Any) -> str:
    """The asked region inside the jurisdiction; the jurisdiction when absent."""
    raw = query_text(params, "region", 24)
    if not raw:
        return actor.jurisdiction
    code = normalise_code(raw)
    if not actor.sees(code):
        raise NotFound("region not found")
    return code


def _span(now: datetime, days: int) -> tuple[datetime, datetime, timedelta]:
    """[start, end) ending at the next whole hour, and the chart step."""
    end = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    step = presence.STEPS["hour" if days <= 1 else "day"]
    return end - timedelta(days=days), end, step


async def uptime(
    uow: UnitOfWork, actor: Actor, area: str, span: tuple[datetime, datetime, timedelta], by: str
) -> dict[str, Any]:
    """The uptime series per child region or tier, shaped for the chart."""
    start, end, step = span
    transitions = await monitoring_reads.transitions(uow, actor.jurisdiction, area, None, end)

    def key_of(code: str, tier: str) -> str:
        return tier if by == "tier" else playlog.child_prefix(code, area)

    items = presence.uptime_series(transitions, start, end, step, key_of)
    stamps: list[datetime] = []
    moment = start
    while moment < end:
        stamps.append(moment)
        moment += step
    index = {stamp.isoformat(): i for i, stamp in enumerate(stamps)}
    values: dict[str, dict[int, float | None]] = {}
    for item in items:
        values.setdefault(item["key"], {})[index[item["at"]]] = item["uptime"]
    fmt = "%H:%M" if step < timedelta(days=1) else "%m-%d"
    labels = [s.astimezone(LOCAL_ZONE).strftime(fmt) for s in stamps]
    names = await region_names(uow, values) if by == "region" else {}
    return {"chart": uptime_chart(values, names, labels), "by": by}


async def plays(
    uow: UnitOfWork, actor: Actor, area: str, span: tuple[datetime, datetime, timedelta], by: str
) -> list[dict[str, Any]]:
    """Play counts per asset or child region, biggest first, with bar widths."""
    start, end, _ = span
    items = await playlog.plays_report(uow, actor.jurisdiction, area, start, end, by)
    if by == "region":  # the console shows the full name (四川省成都市武侯区)
        items = [{**i, "name": i["full_name"]} for i in items]
    most = max((i["plays"] for i in items), default=0) or 1
    return [{**i, "width": round(100.0 * i["plays"] / most, 1)} for i in items]


@router.get("/reports")
async def reports(
    request: Request, console: ConsoleDep, uow: UowDep, container: ContainerDep
) -> Response:
    """Uptime and play-count charts for the chosen period and region."""
    actor = console.actor
    days = _period(request.query_params)
    error = ""
    area = actor.jurisdiction
    try:
        area = _region(actor, request.query_params)
    except DomainError as problem:
        error = problem.message
    span = _span(container.clock.now(), days)
    by_asset = await plays(uow, actor, area, span, "asset")
    context = {
        "section": "reports",
        "days": days,
        "periods": PERIODS,
        "region": area if area != actor.jurisdiction else "",
        "error": error,
        "uptime_region": await uptime(uow, actor, area, span, "region"),
        "uptime_tier": await uptime(uow, actor, area, span, "tier"),
        "by_asset": by_asset[:TOP_ASSETS],
        "assets_total": len(by_asset),
        "by_region": await plays(uow, actor, area, span, "region"),
        "csv_query": f"days={days}" + (f"&region={area}" if area != actor.jurisdiction else ""),
    }
    return render(request, "reports.html", context)


@router.get("/reports/plays.csv")
async def plays_csv(
    request: Request, console: ConsoleDep, uow: UowDep, container: ContainerDep
) -> Response:
    """Play counts per asset or region as CSV (UTF-8 with BOM, for spreadsheets)."""
    actor = console.actor
    by = query_text(request.query_params, "by", 8)
    by = by if by in GROUPS else "asset"
    area = _region(actor, request.query_params)
    days = _period(request.query_params)
    span = _span(container.clock.now(), days)
    items = await plays(uow, actor, area, span, by)
    out = io.StringIO()
    out.write("\ufeff")  # Excel reads UTF-8 Chinese names only with a BOM
    writer = csv.writer(out)
    writer.writerow([by, "name", "plays", "seconds", "outdoor", "hall", "home"])
    for item in items:
        tiers = item.get("by_tier", {})
        writer.writerow(
            [item["key"], item["name"], item["plays"], item["seconds"]]
            + [tiers.get(t, 0) for t in ("outdoor", "hall", "home")]
        )
    filename = f"plays-by-{by}-{days}d.csv"
    headers = {**SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="{filename}"'}
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8", headers=headers)
