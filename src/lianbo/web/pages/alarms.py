"""Alarms: the list with evidence, acknowledge and resolve (audited by the service)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from lianbo.api.deps import ContainerDep, UowDep
from lianbo.domain.errors import NotFound
from lianbo.domain.monitoring.alarms import AlarmFilter, AlarmState, AlarmType
from lianbo.domain.roles import Permission
from lianbo.domain.users import Actor
from lianbo.services import alarms as alarm_service
from lianbo.services import asset_reads, evidence, monitoring_reads
from lianbo.services.context import UnitOfWork
from lianbo.services.regions import region_names
from lianbo.web.forms import page_number, query_text
from lianbo.web.render import SECURITY_HEADERS, render
from lianbo.web.session import ConsoleDep, PostConsoleDep, safe_next

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
STATES = tuple(s.value for s in AlarmState)
TYPES = tuple(t.value for t in AlarmType)
PRIVATE_IMAGE = {**SECURITY_HEADERS, "Cache-Control": "private, max-age=3600"}


def _filters(params: Any) -> dict[str, str]:
    """state, type and terminal from the query; unknown values read as "any"."""
    state = query_text(params, "state", 16)
    kind = query_text(params, "type", 24)
    return {
        # The list opens on what needs attention: alarms not yet resolved.
        "state": state if state in (*STATES, "all") else "live",
        "type": kind if kind in TYPES else "",
        "terminal_id": query_text(params, "terminal_id", 32),
    }


async def _search(
    uow: UnitOfWork, actor: Actor, chosen: dict[str, str], limit: int, offset: int
) -> tuple[list[Any], int]:
    """Alarms for the filter; "live" merges open and acknowledged, newest first."""
    states: tuple[str | None, ...] = (chosen["state"],)
    if chosen["state"] == "live":
        states = ("open", "acknowledged")
    elif chosen["state"] == "all":
        states = (None,)
    found: list[Any] = []
    total = 0
    for state in states:
        where = AlarmFilter(
            state=state,
            type=chosen["type"] or None,
            terminal_id=chosen["terminal_id"] or None,
        )
        # Each list is newest first, so the merged page lies in their heads.
        items, count = await alarm_service.search(uow, actor, where, limit=offset + limit, offset=0)
        found += items
        total += count
    found.sort(key=lambda a: (a.opened_at, a.id), reverse=True)
    return found[offset : offset + limit], total


async def _has_expected_frame(uow: UnitOfWork, evidence: dict[str, Any]) -> bool:
    """Whether the evidence names an asset we still have (so its frame can show)."""
    wanted = evidence.get("expected") if evidence.get("screenshot") else None
    if not isinstance(wanted, dict) or not wanted.get("asset_id"):
        return False
    return await asset_reads.find(uow, str(wanted["asset_id"])) is not None


async def list_context(uow: UnitOfWork, actor: Actor, request: Request) -> dict[str, Any]:
    """One page of alarms with terminal names and region names."""
    chosen = _filters(request.query_params)
    page = page_number(request.query_params.get("page"))
    found, total = await _search(uow, actor, chosen, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    screens = await monitoring_reads.screens(uow, [a.terminal_id for a in found])
    expected = {a.id for a in found if await _has_expected_frame(uow, a.evidence)}
    pages = max(1, -(-total // PAGE_SIZE))
    kept = {k: v for k, v in chosen.items() if v}
    return {
        "alarms": found,
        "total": total,
        "filters": chosen,
        "query": urlencode(kept),
        "screens": screens,
        "expected": expected,
        "names": await region_names(uow, (a.region for a in found)),
        "page": page,
        "pages": pages,
        "prev_url": "/alarms?" + urlencode({**kept, "page": page - 1}) if page > 1 else "",
        "next_url": "/alarms?" + urlencode({**kept, "page": page + 1}) if page < pages else "",
        "states": STATES,
        "types": TYPES,
        "can_act": actor.can(Permission.MONITOR),
    }


@router.get("/alarms")
async def alarm_list(
    request: Request, console: ConsoleDep, uow: UowDep, container: ContainerDep
) -> Response:
    """Alarms inside the jurisdiction, newest first, with their evidence."""
    context = await list_context(uow, console.actor, request)
    flash = query_text(request.query_params, "done", 16)
    now = container.clock.now()
    return render(
        request,
        "alarms.html",
        {
            **context,
            "section": "alarms",
            "flash": flash,
            "now": now,
            "here_query": context["query"],
        },
    )


@router.get("/alarms/live")
async def alarm_list_live(
    request: Request, console: ConsoleDep, uow: UowDep, container: ContainerDep
) -> Response:
    """The list alone, for the HTMX refresh."""
    context = await list_context(uow, console.actor, request)
    return render(request, "alarms_list.html", {**context, "now": container.clock.now()})


async def _back(request: Request, done: str) -> RedirectResponse:
    form = await request.form()
    back = safe_next(str(form.get("next", "")), "/alarms")
    joiner = "&" if "?" in back else "?"
    return RedirectResponse(f"{back}{joiner}done={done}", status_code=303)


@router.post("/alarms/{alarm_id}/ack")
async def acknowledge(
    request: Request, alarm_id: str, console: PostConsoleDep, uow: UowDep, container: ContainerDep
) -> Response:
    """open → acknowledged; the service checks the role and writes the audit entry."""
    desk = container.monitor.desk
    await alarm_service.acknowledge(uow, container.clock, desk, console.actor, alarm_id)
    return await _back(request, "acknowledged")


@router.post("/alarms/{alarm_id}/resolve")
async def resolve(
    request: Request, alarm_id: str, console: PostConsoleDep, uow: UowDep, container: ContainerDep
) -> Response:
    """Close the alarm by hand (audited)."""
    desk = container.monitor.desk
    await alarm_service.resolve(uow, container.clock, desk, console.actor, alarm_id)
    return await _back(request, "resolved")


@router.get("/alarms/{alarm_id}/screenshot")
async def evidence_screenshot(
    alarm_id: str, console: ConsoleDep, uow: UowDep, container: ContainerDep
) -> Response:
    """The screenshot that raised the alarm."""
    alarm = await alarm_service.get(uow, console.actor, alarm_id)
    sha256 = str(alarm.evidence.get("screenshot") or "")
    path = await evidence.local_file(container.blobs, sha256) if sha256 else None
    if path is None:
        raise NotFound("this alarm has no screenshot")
    return FileResponse(path, media_type=evidence.media_type(path), headers=PRIVATE_IMAGE)


@router.get("/alarms/{alarm_id}/expected")
async def evidence_expected(
    alarm_id: str, console: ConsoleDep, uow: UowDep, container: ContainerDep
) -> Response:
    """The frame that should have been on screen, beside the screenshot."""
    alarm = await alarm_service.get(uow, console.actor, alarm_id)
    path = await evidence.expected_frame(uow, container.blobs, alarm.evidence)
    return FileResponse(path, media_type="image/jpeg", headers=PRIVATE_IMAGE)
