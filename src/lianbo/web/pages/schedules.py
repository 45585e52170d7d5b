"""Schedules (排期): the week calendar, the list with publish buttons, the new form.

The calendar shows drafts and published schedules of one week (Monday to
Sunday, Beijing time) as blocks coloured by priority class; the list below
shows every schedule still running from that week on. Filters narrow both
to a region's area and a tier.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from lianbo.api.deps import ContainerDep, UowDep
from lianbo.domain.errors import DomainError, Forbidden, InvalidInput
from lianbo.domain.regions import normalise_code
from lianbo.domain.schedules import ScheduleState
from lianbo.services import playlists, schedules
from lianbo.services.context import UnitOfWork
from lianbo.services.playlists import playlists_by_id
from lianbo.services.regions import region_names
from lianbo.web.calendar import layout, reaches, week_bounds, week_of
from lianbo.web.forms import FormErrors, form_text, query_text, status_of
from lianbo.web.pages.common import TIERS
from lianbo.web.render import LOCAL_ZONE, render
from lianbo.web.schedule_form import PRIORITIES, TEXT_FIELDS, add_error, read_request
from lianbo.web.session import Console, ConsoleDep, PostConsoleDep

router = APIRouter(include_in_schema=False)

CALENDAR_LIMIT = 500
LIST_LIMIT = 200
CHOICES_LIMIT = 300
HOURS = tuple(range(24))


def _filters(request: Request) -> tuple[dict[str, str], str]:
    """Region and tier filters; a bad region code is a message, not a failure."""
    params = request.query_params
    found = {"region": query_text(params, "region", 12), "tier": query_text(params, "tier")}
    if found["tier"] not in TIERS:
        found["tier"] = ""
    problem = ""
    if found["region"]:
        try:
            normalise_code(found["region"])
        except InvalidInput as error:
            problem, found["region"] = error.message, ""
    return found, problem


def _defaults(console: Console, now: datetime) -> dict[str, str]:
    start = (now.astimezone(LOCAL_ZONE) + timedelta(hours=1)).replace(minute=0, second=0)
    values = dict.fromkeys(TEXT_FIELDS, "")
    values.update(
        regions=console.actor.jurisdiction,
        priority="local",
        starts_at=start.strftime("%Y-%m-%dT%H:%M"),
        ends_at=(start + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M"),
    )
    return values


@router.get("/schedules")
async def schedule_page(
    request: Request, console: ConsoleDep, container: ContainerDep, uow: UowDep
) -> Response:
    """The calendar of the chosen week (``?week=YYYY-MM-DD``), the list, the form."""
    values = _defaults(console, container.clock.now())
    created = query_text(request.query_params, "created", 40)
    return await _page(request, container, uow, console, values, [], False, created=created)


async def _page(
    request: Request,
    container: ContainerDep,
    uow: UnitOfWork,
    console: Console,
    values: dict[str, str],
    tiers: list[str],
    sync: bool,
    *,
    errors: FormErrors | None = None,
    created: str = "",
    status: int = 200,
) -> Response:
    context = await _calendar(request, container, uow, console)
    context.update(
        section="schedules",
        choices=await playlists.list_playlists(uow, console.actor, limit=CHOICES_LIMIT, offset=0),
        values=values,
        chosen_tiers=tiers,
        sync=sync,
        errors=errors or FormErrors(),
        created=created,
        tiers=TIERS,
        priorities=PRIORITIES,
    )
    return render(request, "schedules.html", context, status=status)


async def _calendar(
    request: Request, container: ContainerDep, uow: UnitOfWork, console: Console
) -> dict[str, Any]:
    """The week's blocks and the list below them, both through the filters."""
    now = container.clock.now().astimezone(LOCAL_ZONE)
    monday = week_of(request.query_params.get("week"), now.date())
    start, end = week_bounds(monday, LOCAL_ZONE)
    filters, filter_error = _filters(request)
    live = [ScheduleState.DRAFT, ScheduleState.PUBLISHED]
    in_week = await schedules.list_schedules(
        uow, console.actor, states=live, since=start, until=end, limit=CALENDAR_LIMIT, offset=0
    )
    listed = await schedules.list_schedules(
        uow, console.actor, states=None, since=start, until=None, limit=LIST_LIMIT, offset=0
    )
    in_week, listed = (
        [s for s in found if reaches(s, filters["region"], filters["tier"])]
        for found in (in_week, listed)
    )
    names = await playlists_by_id(uow, {s.playlist_id for s in [*in_week, *listed]})
    kept = {k: v for k, v in filters.items() if v}
    return {
        "monday": monday,
        "sunday": monday + timedelta(days=6),
        "here_week": monday.isoformat(),
        "days": layout(in_week, monday, LOCAL_ZONE, now.date()),
        "hours": HOURS,
        "now_top": round(100 * (now.hour * 60 + now.minute) / 1440, 3),
        "filters": filters,
        "filter_error": filter_error,
        "week_url": lambda delta: _week_url(kept, monday + timedelta(days=7 * delta)),
        "this_week": "/schedules?" + urlencode(kept) if kept else "/schedules",
        "listed": listed,
        "playlist_names": {pid: p.name for pid, p in names.items()},
        "region_names": await region_names(uow, (r for s in listed for r in s.targets.regions)),
    }


def _week_url(filters: dict[str, str], monday: date) -> str:
    return "/schedules?" + urlencode({**filters, "week": monday.isoformat()})


@router.post("/schedules")
async def create_schedule(
    request: Request, console: PostConsoleDep, container: ContainerDep, uow: UowDep
) -> Response:
    """Save a draft; every mistake comes back next to its field, values kept."""
    if not console.can_manage_content:
        raise Forbidden("scheduling needs the operator or admin role")
    form = await form_text(request)
    values = {name: form.get(name, "").strip() for name in TEXT_FIELDS}
    raw = await request.form()
    tiers = [str(t) for t in raw.getlist("tiers") if str(t) in TIERS]
    sync = form.get("sync") == "on"
    errors = FormErrors()
    wanted = read_request(values, tiers, sync, errors)
    status = 400
    if wanted is not None:
        try:
            made = await schedules.create_schedule(uow, container.clock, console.actor, wanted)
        except DomainError as problem:
            add_error(errors, problem)
            status = status_of(problem)
        else:
            week = made.starts_at.astimezone(LOCAL_ZONE).date().isoformat()
            return RedirectResponse(
                "/schedules?" + urlencode({"week": week, "created": made.id}), status_code=303
            )
    return await _page(
        request, container, uow, console, values, tiers, sync, errors=errors, status=status
    )
