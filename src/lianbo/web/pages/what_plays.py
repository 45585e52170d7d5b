"""What plays where (播出预览): one terminal's resolved timeline and why.

The same resolution the signed manifests are built from
(``services.manifests.timeline``), for a chosen start (default now) and
number of hours: a bar coloured by priority class, and a table naming the
schedule, the reason it won, and its items.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from lianbo.api.deps import ContainerDep, UowDep
from lianbo.domain.errors import InvalidInput
from lianbo.domain.targeting import Audience
from lianbo.domain.terminals import TerminalFilter
from lianbo.services import asset_reads, manifests, terminals
from lianbo.services.context import UnitOfWork
from lianbo.services.regions import region_names
from lianbo.web.forms import query_text
from lianbo.web.render import LOCAL_ZONE, language_of, render
from lianbo.web.schedule_form import local_instant
from lianbo.web.session import Console, ConsoleDep
from lianbo.web.timeline_view import BAR_WIDTH, bar, reason_text

router = APIRouter(include_in_schema=False)

PICK_LIMIT = 20
DEFAULT_HOURS = 24
MAX_HOURS = 168


def _hours(raw: str) -> int:
    try:
        return min(max(int(raw), 1), MAX_HOURS)
    except ValueError:
        return DEFAULT_HOURS


@router.get("/what-plays")
async def what_plays(
    request: Request, console: ConsoleDep, container: ContainerDep, uow: UowDep
) -> Response:
    """Pick a terminal (``?terminal=ID`` or search ``q``) and see its timeline."""
    params = request.query_params
    q = query_text(params, "q")
    terminal_id = query_text(params, "terminal", 64)
    hours = _hours(query_text(params, "hours") or str(DEFAULT_HOURS))
    now = container.clock.now()
    at_raw = query_text(params, "at", 32)
    problem = ""
    try:
        start = local_instant(at_raw, "at") if at_raw else now
    except InvalidInput as error:
        problem, start = error.message, now
    end = start + timedelta(hours=hours)
    context: dict[str, Any] = {
        "section": "what-plays",
        "q": q,
        "hours": hours,
        "at": start.astimezone(LOCAL_ZONE).strftime("%Y-%m-%dT%H:%M"),
        "problem": problem,
        "terminal": None,
        "start": start,
        "end": end,
        "bar_width": BAR_WIDTH,
    }
    if terminal_id:
        context.update(await _timeline(request, uow, console, terminal_id, start, end, now))
    else:
        found, _ = await terminals.list_terminals(
            uow, console.actor, TerminalFilter(search=q or None), limit=PICK_LIMIT, offset=0
        )
        context.update(
            choices=found, choice_names=await region_names(uow, (t.region for t in found))
        )
    return render(request, "what_plays.html", context)


async def _timeline(
    request: Request,
    uow: UnitOfWork,
    console: Console,
    terminal_id: str,
    start: datetime,
    end: datetime,
    now: datetime,
) -> dict[str, Any]:
    """The chosen terminal's entries, the bar, the reasons; 404 outside the jurisdiction."""
    terminal = await terminals.get_terminal(uow, console.actor, terminal_id)
    entries = await manifests.timeline(uow, Audience.of(terminal), start, end)
    segments, ticks = bar(entries, start, end, LOCAL_ZONE)
    language = language_of(request)
    hours = round((end - start).total_seconds() / 3600)
    return {
        "terminal": terminal,
        "region_name": (await region_names(uow, [terminal.region]))[terminal.region],
        "entries": entries,
        "reasons": [reason_text(language, e.reason) for e in entries],
        "segments": segments,
        "ticks": ticks,
        "now_x": _now_x(now, start, end),
        "item_posters": await asset_reads.posters(
            uow, {i["asset_id"] for e in entries for i in e.items}
        ),
        "shift": lambda delta: _shift_url(terminal_id, start + timedelta(hours=delta), hours),
    }


def _now_x(now: datetime, start: datetime, end: datetime) -> float | None:
    if not start <= now < end:
        return None
    return round(BAR_WIDTH * (now - start).total_seconds() / (end - start).total_seconds(), 2)


def _shift_url(terminal_id: str, start: datetime, hours: int) -> str:
    at = start.astimezone(LOCAL_ZONE).strftime("%Y-%m-%dT%H:%M")
    return "/what-plays?" + urlencode({"terminal": terminal_id, "at": at, "hours": hours})
