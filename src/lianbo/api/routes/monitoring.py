"""/api/v1/alarms, /api/v1/monitoring/wall, /api/v1/reports: the console's
monitoring API. Everything is filtered by the caller's jurisdiction."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, Response

from lianbo.adapters.db.repos.alarms import StoredAlarm
from lianbo.api.deps import ActorDep, ContainerDep, UowDep
from lianbo.api.routes.common import AwareMoment, Limit, Offset
from lianbo.api.routes.media import refused_range
from lianbo.domain.errors import InvalidInput, NotFound
from lianbo.domain.monitoring.alarms import AlarmFilter, AlarmState, AlarmType
from lianbo.domain.regions import normalise_code
from lianbo.domain.terminals import Tier
from lianbo.services import alarms, evidence, playlog, presence

router = APIRouter(tags=["monitoring"])

Region = Annotated[str | None, Query(max_length=12)]
From = Annotated[AwareMoment | None, Query(alias="from")]
To = Annotated[AwareMoment | None, Query(alias="to")]


def _region(actor_jurisdiction: str, raw: str | None) -> str:
    """The asked region, normalised; the caller's jurisdiction when absent."""
    if not raw:
        return actor_jurisdiction
    return normalise_code(raw)


def _item(alarm: StoredAlarm) -> dict[str, Any]:
    body = alarms.alarm_json(alarm)
    base = f"/api/v1/alarms/{alarm.id}/evidence"
    if alarm.evidence.get("screenshot"):
        body["evidence"] = {
            **alarm.evidence,
            "screenshot_url": f"{base}/screenshot",
            "expected_url": f"{base}/expected",
        }
    return body


@router.get("/api/v1/alarms")
async def list_alarms(
    actor: ActorDep,
    uow: UowDep,
    state: AlarmState | None = None,
    type: AlarmType | None = None,
    terminal_id: Annotated[str | None, Query(max_length=32)] = None,
    region: Region = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Alarms inside the caller's jurisdiction, newest first."""
    where = AlarmFilter(
        state=state.value if state else None,
        type=type.value if type else None,
        terminal_id=terminal_id,
        region=normalise_code(region) if region else None,
    )
    found, total = await alarms.search(uow, actor, where, limit=limit, offset=offset)
    return {"items": [_item(a) for a in found], "total": total}


@router.get("/api/v1/alarms/{alarm_id}")
async def get_alarm(alarm_id: str, actor: ActorDep, uow: UowDep) -> dict[str, Any]:
    return _item(await alarms.get(uow, actor, alarm_id))


@router.post("/api/v1/alarms/{alarm_id}/ack")
async def acknowledge(
    alarm_id: str, actor: ActorDep, uow: UowDep, container: ContainerDep
) -> dict[str, Any]:
    """open → acknowledged (monitor, operator or admin; audited)."""
    done = await alarms.acknowledge(uow, container.clock, container.monitor.desk, actor, alarm_id)
    return _item(done)


@router.post("/api/v1/alarms/{alarm_id}/resolve")
async def resolve(
    alarm_id: str, actor: ActorDep, uow: UowDep, container: ContainerDep
) -> dict[str, Any]:
    """Resolve by hand (audited); a condition still present raises a new alarm."""
    done = await alarms.resolve(uow, container.clock, container.monitor.desk, actor, alarm_id)
    return _item(done)


@router.get("/api/v1/alarms/{alarm_id}/evidence/screenshot")
async def evidence_screenshot(
    alarm_id: str, request: Request, actor: ActorDep, uow: UowDep, container: ContainerDep
) -> Response:
    """The screenshot that raised the alarm."""
    alarm = await alarms.get(uow, actor, alarm_id)
    sha256 = str(alarm.evidence.get("screenshot") or "")
    path = await evidence.local_file(container.blobs, sha256) if sha256 else None
    if path is None:
        raise NotFound("this alarm has no screenshot")
    return refused_range(request, path) or FileResponse(path, media_type=evidence.media_type(path))


@router.get("/api/v1/alarms/{alarm_id}/evidence/expected")
async def evidence_expected(
    alarm_id: str, request: Request, actor: ActorDep, uow: UowDep, container: ContainerDep
) -> Response:
    """The frame that should have been on screen (JPEG), beside the screenshot."""
    alarm = await alarms.get(uow, actor, alarm_id)
    path = await evidence.expected_frame(uow, container.blobs, alarm.evidence)
    return refused_range(request, path) or FileResponse(path, media_type="image/jpeg")


@router.get("/api/v1/monitoring/wall")
async def wall(
    actor: ActorDep,
    uow: UowDep,
    region: Region = None,
    tier: Tier | None = None,
    limit: Limit = 200,
    offset: Offset = 0,
) -> dict[str, Any]:
    """The latest screenshot of each screen with its status and verdict."""
    items, total = await evidence.wall(
        uow,
        actor.jurisdiction,
        _region("", region),
        tier.value if tier else None,
        limit=limit,
        offset=offset,
    )
    return {"items": items, "total": total}


def _span(start: datetime | None, end: datetime | None) -> tuple[datetime, datetime]:
    end = end or datetime.now(UTC)
    return (start or end - timedelta(days=7)), end


@router.get("/api/v1/reports/plays", response_model=None)
async def plays(
    request: Request,
    actor: ActorDep,
    uow: UowDep,
    start: From = None,
    end: To = None,
    region: Region = None,
    group_by: Annotated[str, Query(pattern="^(asset|region)$")] = "asset",
    format: Annotated[str | None, Query(pattern="^(json|csv)$")] = None,
) -> Response | dict[str, Any]:
    """Play counts and seconds on air per asset or region; CSV on request."""
    low, high = _span(start, end)
    area = _region("", region)
    if area and not actor.sees(area):
        raise NotFound("region not found")
    items = await playlog.plays_report(uow, actor.jurisdiction, area, low, high, group_by)
    wants_csv = format == "csv" or (
        format is None and "text/csv" in request.headers.get("accept", "")
    )
    if wants_csv:
        return _csv(items, group_by)
    return {"items": items, "total": len(items), "from": low.isoformat(), "to": high.isoformat()}


def _csv(items: list[dict[str, Any]], group_by: str) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([group_by, "name", "plays", "seconds"])
    for item in items:
        writer.writerow([item["key"], item["name"], item["plays"], item["seconds"]])
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="plays-by-{group_by}.csv"'},
    )


@router.get("/api/v1/reports/uptime")
async def uptime(
    actor: ActorDep,
    uow: UowDep,
    start: From = None,
    end: To = None,
    region: Region = None,
    tier: Tier | None = None,
    group_by: Annotated[str, Query(pattern="^(region|tier)$")] = "region",
    step: Annotated[str, Query(pattern="^(hour|day)$")] = "hour",
) -> dict[str, Any]:
    """Share of time screens were online, per child region or tier, per hour or day."""
    low, high = _span(start, end)
    playlog.report_span(low, high)
    if (high - low) / presence.STEPS[step] > presence.MAX_BUCKETS:
        raise InvalidInput(f"at most {presence.MAX_BUCKETS} {step}s per report", field="step")
    area = _region("", region)
    if area and not actor.sees(area):
        raise NotFound("region not found")
    transitions = await uow.monitoring.transitions(
        actor.jurisdiction, area, tier.value if tier else None, high
    )

    def key_of(code: str, screen_tier: str) -> str:
        return (
            screen_tier
            if group_by == "tier"
            else playlog.child_prefix(code, area or actor.jurisdiction)
        )

    items = presence.uptime_series(transitions, low, high, presence.STEPS[step], key_of)
    return {"items": items, "total": len(items), "from": low.isoformat(), "to": high.isoformat()}
