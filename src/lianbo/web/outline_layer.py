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

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from lianbo.services.context import UnitOfWork
from lianbo.services.outlines import (
    MapOutline,
    display_tolerance,
    for_display,
    map_outlines,
    shipped_for_display,
)
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
    tolerance = display_tolerance(HALF_PIXEL / p.scale)
    west = p.west - (p.x0 / (p.kx * p.scale))
    east = west + p.width / (p.kx * p.scale)
    north = p.north + p.y0 / p.scale
    south = north - p.height / p.scale
    box = (west, south, east, north)
    drawn = []
    for o in outlines:
        simple = shipped_for_display(o.code, tolerance) if o.shipped else None
        shape = for_display(o.geometry, tolerance) if simple is None else simple
        if o.role == "context":
            shape = shapely.clip_by_rect(shape, *box)
        d = _path(shape, p)
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
            parts.append(_ring(np.asarray(ring.coords), p))
    return " ".join(part for part in parts if part)


def _ring(coords: NDArray[np.float64], p: charts.Projection) -> str:
    """``M x y l dx dy ... z`` in whole pixels: after a half-pixel
    simplification finer numbers would only add bytes (relative steps are
    mostly one or two digits)."""
    x = np.rint(p.x0 + (coords[:, 0] - p.west) * p.kx * p.scale)
    y = np.rint(p.y0 + (p.north - coords[:, 1]) * p.scale)
    pixels = np.stack([x, y], axis=1).astype(np.int64)
    moved = np.ones(len(pixels), dtype=bool)
    moved[1:] = np.any(pixels[1:] != pixels[:-1], axis=1)
    pixels = pixels[moved]
    if len(pixels) < 4:  # closed: three corners and the first again
        return ""
    steps = np.diff(pixels[:-1], axis=0)  # z closes the last step
    x0, y0 = pixels[0].tolist()
    return f"M{x0} {y0}l" + " ".join(map(str, steps.ravel().tolist())) + "z"
