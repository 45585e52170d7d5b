"""Monitoring (安全播出监测): the screenshot wall and the map of screens.

The wall shows each screen's latest screenshot and its verdict, filtered by
region and tier, refreshed by HTMX; the map colours every screen online,
offline, or in alarm. Screenshots are served to signed-in operators only.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from lianbo.api.deps import ContainerDep, UowDep
from lianbo.domain.assets import is_sha256
from lianbo.domain.errors import DomainError, NotFound
from lianbo.domain.monitoring.alarms import AlarmFilter
from lianbo.domain.monitoring.records import ScreenFacts, Screenshot
from lianbo.domain.regions import normalise_code
from lianbo.domain.users import Actor
from lianbo.services import alarms as alarm_service
from lianbo.services import area_preview, evidence, monitoring_reads
from lianbo.services.context import UnitOfWork
from lianbo.services.regions import region_names
from lianbo.web import charts, outline_layer
from lianbo.web.forms import page_number, query_text
from lianbo.web.pages import alert_area
from lianbo.web.pages.common import TIERS
from lianbo.web.render import SECURITY_HEADERS, render
from lianbo.web.session import ConsoleDep

router = APIRouter(include_in_schema=False)

WALL_PAGE = 48
ALARMED = 20_000
MAP_ORDER = ("online", "offline", "alarm")
LIVE_ALARM_STATES = ("open", "acknowledged")


@dataclass(frozen=True, slots=True)
class Tile:
    """One screen on the wall."""

    screen: ScreenFacts
    shot: Screenshot | None
    alarmed: bool

    @property
    def verdict(self) -> str:
        """The latest verdict, or ``none`` before the first screenshot."""
        return self.shot.verdict if self.shot else "none"


@dataclass(frozen=True, slots=True)
class WallFilter:
    region: str
    tier: str
    error: str

    def query(self) -> str:
        """The filter as a query string for the live refresh."""
        parts = [
            f"region={self.region}" if self.region else "",
            f"tier={self.tier}" if self.tier else "",
        ]
        return "&".join(p for p in parts if p)


def wall_filter(params: Any) -> WallFilter:
    """Region (any form of the code) and tier from the query; junk noted, not fatal."""
    raw_region = query_text(params, "region", 24)
    tier = query_text(params, "tier", 12)
    error = ""
    region = ""
    if raw_region:
        try:
            region = normalise_code(raw_region)
        except DomainError as problem:
            error = problem.message
    return WallFilter(region, tier if tier in TIERS else "", error)


async def alarmed_ids(uow: UnitOfWork, actor: Actor) -> set[str]:
    """Screens with an alarm not yet resolved, inside the jurisdiction."""
    found: set[str] = set()
    for state in LIVE_ALARM_STATES:
        items, _ = await alarm_service.search(
            uow, actor, AlarmFilter(state=state), limit=ALARMED, offset=0
        )
        found |= {a.terminal_id for a in items}
    return found


async def wall_context(uow: UnitOfWork, actor: Actor, request: Request) -> dict[str, Any]:
    """One page of tiles for the filter in the query string."""
    chosen = wall_filter(request.query_params)
    page = page_number(request.query_params.get("page"))
    rows, total = await monitoring_reads.wall(
        uow,
        actor.jurisdiction,
        chosen.region,
        chosen.tier or None,
        limit=WALL_PAGE,
        offset=(page - 1) * WALL_PAGE,
    )
    alarmed = await alarmed_ids(uow, actor)
    tiles = [Tile(screen, shot, screen.id in alarmed) for screen, shot in rows]
    pages = max(1, -(-total // WALL_PAGE))
    base = "/monitoring?" + chosen.query() + ("&" if chosen.query() else "")
    return {
        "tiles": tiles,
        "total": total,
        "filter": chosen,
        "names": await region_names(uow, (t.screen.region for t in tiles)),
        "page": page,
        "pages": pages,
        "prev_url": f"{base}page={page - 1}" if page > 1 else "",
        "next_url": f"{base}page={page + 1}" if page < pages else "",
        "tiers": TIERS,
    }


@router.get("/monitoring")
async def wall(
    request: Request, console: ConsoleDep, uow: UowDep, container: ContainerDep
) -> Response:
    """The monitoring wall: the latest screenshot of every screen."""
    context = await wall_context(uow, console.actor, request)
    now = container.clock.now()
    return render(request, "monitoring.html", {**context, "section": "monitoring", "now": now})


@router.get("/monitoring/wall")
async def wall_live(
    request: Request, console: ConsoleDep, uow: UowDep, container: ContainerDep
) -> Response:
    """The tiles alone, for the HTMX refresh."""
    context = await wall_context(uow, console.actor, request)
    return render(request, "monitoring_wall.html", {**context, "now": container.clock.now()})


async def map_context(uow: UnitOfWork, actor: Actor) -> dict[str, Any]:
    """Every screen of the jurisdiction, coloured online / offline / alarm."""
    screens = await area_preview.screens_within(uow, actor.jurisdiction)
    alarmed = await alarmed_ids(uow, actor)
    counts = dict.fromkeys(MAP_ORDER, 0)
    points = []
    for s in screens:
        status = "alarm" if s.id in alarmed else s.status
        counts[status] = counts.get(status, 0) + 1
        points.append((s.name, status, s.lat, s.lon))
    drawn = await outline_layer.outlines_for(uow, actor.jurisdiction)
    positions = ((s.lat, s.lon) for s in screens)
    projection = outline_layer.fit(positions, outline_layer.home_of(drawn), alert_area.MAP_WIDTH)
    if projection is None:
        return {"map": None, "counts": counts}
    meridians, parallels = charts.grid(projection)
    return {
        "map": {
            "projection": projection,
            "meridians": meridians,
            "parallels": parallels,
            "dots": charts.dots(points, projection, list(MAP_ORDER)),
            "outlines": outline_layer.paths(drawn, projection),
        },
        "counts": counts,
    }


@router.get("/monitoring/map")
async def screen_map(
    request: Request, console: ConsoleDep, uow: UowDep, container: ContainerDep
) -> Response:
    """The map of screens by status, refreshed every few seconds."""
    context = await map_context(uow, console.actor)
    now = container.clock.now()
    return render(
        request, "monitoring_map.html", {**context, "section": "monitoring-map", "now": now}
    )


@router.get("/monitoring/map/live")
async def screen_map_live(
    request: Request, console: ConsoleDep, uow: UowDep, container: ContainerDep
) -> Response:
    """The map alone, for the HTMX refresh."""
    context = await map_context(uow, console.actor)
    return render(request, "monitoring_map_live.html", {**context, "now": container.clock.now()})


@router.get("/monitoring/shots/{sha256}")
async def screenshot_image(sha256: str, console: ConsoleDep, container: ContainerDep) -> Response:
    """A stored screenshot (JPEG or PNG by its signature), for signed-in eyes."""
    path = await evidence.local_file(container.blobs, sha256) if is_sha256(sha256) else None
    if path is None:
        raise NotFound("no such screenshot")
    data = await asyncio.to_thread(path.read_bytes)
    media_type = "image/png" if data.startswith(b"\x89PNG") else "image/jpeg"
    headers = {**SECURITY_HEADERS, "Cache-Control": "private, max-age=86400, immutable"}
    return Response(data, media_type=media_type, headers=headers)
