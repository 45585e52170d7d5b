"""Region outlines on the console's SVG maps (composer, screen map, dashboard).

The map shows the viewer's jurisdiction outlined (``home``), the regions
inside it (``part``; the deepest ones can be clicked on the composer to
add their code to the area) and the neighbours around it (``context``,
clipped to the map's box). Outlines are simplified to half a pixel of the
map they are drawn on, so a province's ~200 counties weigh tens of
kilobytes, not megabytes (ADR 0026).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise

import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from lianbo.services.context import UnitOfWork
from lianbo.services.outlines import MapOutline, for_display, map_outlines
from lianbo.web import charts

HALF_PIXEL = 0.5  # simplification tolerance, in pixels of the drawn map
MIN_PIXELS = 2.0  # outlines smaller than this on the map are not drawn


@dataclass(frozen=True, slots=True)
class OutlinePath:
    """One outline as an SVG path in a projection's pixels."""

    code: str
    name: str
    role: str  # home | part | context
    d: str
    pickable: bool


async def outlines_for(
    uow: UnitOfWork, jurisdiction: str, *, pick: bool = False
) -> list[MapOutline]:
    """The outlines a map of ``jurisdiction`` draws (read through the service);
    with ``pick`` down to the counties a click picks."""
    return await map_outlines(uow, jurisdiction, pick=pick)


def home_of(outlines: Sequence[MapOutline]) -> BaseGeometry | None:
    """The jurisdiction's own outline among a map's, if it has one."""
    return next((o.geometry for o in outlines if o.role == "home"), None)


def fit(
    positions: Iterable[tuple[float, float]], home: BaseGeometry | None, width: float
) -> charts.Projection | None:
    """A projection over screens' positions and the jurisdiction's outline
    (nationwide there is none: the screens decide where the map looks)."""
    corners: list[tuple[float, float]] = []
    if home is not None and not home.is_empty:
        west, south, east, north = home.bounds
        corners = [(south, west), (north, east)]
    return charts.fit([*positions, *corners], width=width)


def paths(outlines: Sequence[MapOutline], projection: charts.Projection) -> list[OutlinePath]:
    """SVG paths of the outlines, simplified and clipped to the map's box."""
    p = projection
    degrees_per_pixel = 1.0 / p.scale
    west = p.west - (p.x0 / (p.kx * p.scale))
    east = west + p.width / (p.kx * p.scale)
    north = p.north + p.y0 / p.scale
    south = north - p.height / p.scale
    box = (west, south, east, north)
    drawn = []
    for o in outlines:
        shape = o.geometry
        if o.role == "context":
            shape = shapely.clip_by_rect(shape, *box)
        d = _path(for_display(shape, HALF_PIXEL * degrees_per_pixel), p)
        if d:
            drawn.append(OutlinePath(o.code, o.name, o.role, d, o.pickable))
    return drawn


def _path(shape: BaseGeometry, p: charts.Projection) -> str:
    if shape.is_empty:
        return ""
    west, south, east, north = shape.bounds
    if max((east - west) * p.kx, north - south) * p.scale < MIN_PIXELS:
        return ""
    polygons = list(shape.geoms) if isinstance(shape, MultiPolygon) else [shape]
    parts = []
    for polygon in polygons:
        if not isinstance(polygon, Polygon) or polygon.is_empty:
            continue
        for ring in (polygon.exterior, *polygon.interiors):
            parts.append(_ring(ring.coords, p))
    return " ".join(part for part in parts if part)


def _ring(coords: Iterable[tuple[float, ...]], p: charts.Projection) -> str:
    """``M x y l dx dy ... z`` in whole pixels: after a half-pixel
    simplification finer numbers would only add bytes (relative steps are
    mostly one or two digits)."""
    pixels: list[tuple[int, int]] = []
    for lon, lat, *_ in coords:
        x, y = p.xy(lat, lon)
        point = (round(x), round(y))
        if not pixels or point != pixels[-1]:
            pixels.append(point)
    if len(pixels) < 4:  # closed: three corners and the first again
        return ""
    (x0, y0), steps = pixels[0], []
    for (ax, ay), (bx, by) in pairwise(pixels[:-1]):  # z closes the last step
        steps.append(f"{bx - ax} {by - ay}")
    return f"M{x0} {y0}l" + " ".join(steps) + "z"
