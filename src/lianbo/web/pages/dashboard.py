"""The dashboard: terminals by tier and status, and where they are."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from lianbo.api.deps import ContainerDep, UowDep
from lianbo.domain.terminals import TerminalFilter, TerminalStatus, Tier
from lianbo.services import fleet_reads, terminals
from lianbo.services.context import UnitOfWork
from lianbo.services.regions import find_region
from lianbo.web import charts, outline_layer
from lianbo.web.render import render
from lianbo.web.session import Console, ConsoleDep

router = APIRouter(include_in_schema=False)

MAP_LIMIT = 20_000
MAP_WIDTH = 960.0
# Bars read left to right from healthy to needing attention.
BAR_ORDER = (TerminalStatus.ONLINE, TerminalStatus.OFFLINE, TerminalStatus.PENDING)
# On the map the statuses that need attention are drawn last, on top.
DRAW_ORDER = (TerminalStatus.ONLINE, TerminalStatus.PENDING, TerminalStatus.OFFLINE)
# Cluster labels one level below the jurisdiction: cities in a province.
LABEL_DIGITS = {0: 2, 2: 4, 4: 6, 6: 9, 9: 12}
LABELS_LOOKED_UP = 30
# Offline screens listed by name on the dashboard; the rest are one click away.
ATTENTION = 8


@dataclass(frozen=True, slots=True)
class TierRow:
    tier: str
    total: int
    counts: dict[str, int]
    segments: list[charts.Segment]


@router.get("/")
async def dashboard(
    request: Request, console: ConsoleDep, uow: UowDep, container: ContainerDep
) -> Response:
    """The landing page after signing in."""
    context = await live_context(uow, console)
    now = container.clock.now()
    return render(request, "dashboard.html", {**context, "section": "dashboard", "now": now})


@router.get("/dashboard/live")
async def dashboard_live(
    request: Request, console: ConsoleDep, uow: UowDep, container: ContainerDep
) -> Response:
    """The counts and map alone, for the 15-second HTMX refresh."""
    context = await live_context(uow, console)
    return render(request, "dashboard_live.html", {**context, "now": container.clock.now()})


async def live_context(uow: UnitOfWork, console: Console) -> dict[str, Any]:
    """Counts by tier x status plus the map, within the jurisdiction."""
    within = console.actor.jurisdiction
    matrix: dict[str, dict[str, int]] = {tier.value: {} for tier in Tier}
    for tier, status, count in await fleet_reads.counts_by(uow, within):
        matrix.setdefault(tier, {})[status] = count
    totals = {s.value: sum(row.get(s.value, 0) for row in matrix.values()) for s in BAR_ORDER}
    order = [s.value for s in BAR_ORDER]
    tiers = [
        TierRow(tier, sum(row.values()), row, charts.stacked(row, order))
        for tier, row in matrix.items()
    ]
    offline, _ = await terminals.list_terminals(
        uow, console.actor, TerminalFilter(status=TerminalStatus.OFFLINE), limit=ATTENTION, offset=0
    )
    return {
        "attention": offline,
        "totals": totals,
        "total": sum(totals.values()),
        "tiers": tiers,
        "statuses": order,
        "fleet_segments": charts.stacked(totals, order),
        "map": await map_context(uow, within),
    }


async def map_context(uow: UnitOfWork, within: str) -> dict[str, Any] | None:
    """Everything the SVG map needs, or None when there is nothing to plot."""
    positions = await fleet_reads.positions(uow, within, MAP_LIMIT)
    drawn = await outline_layer.outlines_for(uow, within)
    home = outline_layer.home_of(drawn)
    projection = outline_layer.fit(((p[4], p[5]) for p in positions), home, MAP_WIDTH)
    if projection is None:
        return None
    meridians, parallels = charts.grid(projection)
    points = ((name, status, lat, lon) for _id, name, _tier, status, lat, lon in positions)
    dots = charts.dots(points, projection, [s.value for s in DRAW_ORDER])
    return {
        "projection": projection,
        "meridians": meridians,
        "parallels": parallels,
        "dots": dots,
        "outlines": outline_layer.paths(drawn, projection),
        "labels": charts.labels(await _named_clusters(uow, within), projection),
        "plotted": len(positions),
        "truncated": len(positions) >= MAP_LIMIT,
    }


async def _named_clusters(uow: UnitOfWork, within: str) -> list[tuple[str, int, float, float]]:
    digits = LABEL_DIGITS.get(len(within), len(within))
    groups = sorted(await fleet_reads.centroids_by(uow, within, digits), key=lambda g: -g[1])
    named = []
    # Only the biggest groups can win a label, so only they are looked up.
    for code, count, lat, lon in groups[:LABELS_LOOKED_UP]:
        region = await find_region(uow, code)
        if region is not None:
            named.append((region.name, count, lat, lon))
    return named
