"""One schedule: its targets and times, its playlist, when it plays next;
publishing and unpublishing it (control acts, audited by the service)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from lianbo.api.deps import ContainerDep, UowDep
from lianbo.domain.errors import DomainError
from lianbo.domain.schedules import Schedule, occurrences
from lianbo.services import asset_reads, schedules
from lianbo.services.context import UnitOfWork
from lianbo.services.playlists import playlists_by_id
from lianbo.services.regions import region_names
from lianbo.web.forms import FormErrors, form_text, status_of
from lianbo.web.render import render
from lianbo.web.session import Console, ConsoleDep, PostConsoleDep, safe_next

router = APIRouter(include_in_schema=False)

UPCOMING_DAYS = 14
UPCOMING_SHOWN = 12


@router.get("/schedules/{schedule_id}")
async def schedule_page(
    request: Request, schedule_id: str, console: ConsoleDep, container: ContainerDep, uow: UowDep
) -> Response:
    """A schedule's facts; a 404 page outside the jurisdiction."""
    schedule = await schedules.get_schedule(uow, console.actor, schedule_id)
    done = request.query_params.get("done", "")
    flash = done if done in ("published", "unpublished") else ""
    return await _page(request, container, uow, console, schedule, flash=flash)


async def _page(
    request: Request,
    container: ContainerDep,
    uow: UnitOfWork,
    console: Console,
    schedule: Schedule,
    *,
    flash: str = "",
    errors: FormErrors | None = None,
    status: int = 200,
) -> Response:
    now = container.clock.now()
    found = await playlists_by_id(uow, {schedule.playlist_id})
    playlist = found.get(schedule.playlist_id)
    items: list[dict[str, Any]] = []
    if playlist is not None:
        for item in playlist.items:
            asset = await asset_reads.find(uow, item.asset_id)
            items.append({"item": item, "asset": asset})
    upcoming = occurrences(schedule, now, now + timedelta(days=UPCOMING_DAYS))
    context: dict[str, Any] = {
        "section": "schedules",
        "schedule": schedule,
        "playlist": playlist,
        "items": items,
        "item_posters": await asset_reads.posters(uow, (i["item"].asset_id for i in items)),
        "upcoming": upcoming[:UPCOMING_SHOWN],
        "more_upcoming": max(0, len(upcoming) - UPCOMING_SHOWN),
        "region_names": await region_names(uow, schedule.targets.regions),
        "flash": flash,
        "errors": errors or FormErrors(),
        "can_manage": console.can_manage_content,
    }
    return render(request, "schedule_detail.html", context, status=status)


async def _transition(
    request: Request,
    schedule_id: str,
    console: Console,
    container: ContainerDep,
    uow: UnitOfWork,
    *,
    publish: bool,
) -> Response:
    form = await form_text(request)
    try:
        if publish:
            await schedules.publish(uow, container.clock, console.actor, schedule_id)
        else:
            await schedules.unpublish(uow, container.clock, console.actor, schedule_id)
    except DomainError as problem:
        errors = FormErrors()
        errors.add(problem)
        schedule = await schedules.get_schedule(uow, console.actor, schedule_id)
        return await _page(
            request, container, uow, console, schedule, errors=errors, status=status_of(problem)
        )
    done = "published" if publish else "unpublished"
    default = f"/schedules/{schedule_id}?done={done}"
    return RedirectResponse(safe_next(form.get("next"), default), status_code=303)


@router.post("/schedules/{schedule_id}/publish")
async def publish(
    request: Request,
    schedule_id: str,
    console: PostConsoleDep,
    container: ContainerDep,
    uow: UowDep,
) -> Response:
    """Put a draft on air (manifests of the reached screens are rebuilt)."""
    return await _transition(request, schedule_id, console, container, uow, publish=True)


@router.post("/schedules/{schedule_id}/unpublish")
async def unpublish(
    request: Request,
    schedule_id: str,
    console: PostConsoleDep,
    container: ContainerDep,
    uow: UowDep,
) -> Response:
    """Take a published schedule off air."""
    return await _transition(request, schedule_id, console, container, uow, publish=False)
