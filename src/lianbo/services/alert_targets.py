"""Which screens an alert reaches, and the region topics that carry it.

Cell-broadcast style: the server publishes once per region topic and the
broker (or hub) fans out; each player checks polygons and circles against
its own position. So the topics are the smallest set of region codes that
covers every targeted screen: the area's region codes themselves, and for
polygons and circles the county (or smaller) region of each screen inside.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from lianbo.adapters.db.repos.alerts import Screen
from lianbo.adapters.geo import TerminalIndex
from lianbo.domain.alerting.model import Area

COUNTY = 6  # short-form length of a county code


@dataclass(frozen=True, slots=True)
class Targets:
    screens: list[Screen]
    topics: list[str]


def minimal_cover(codes: Iterable[str]) -> list[str]:
    """Drop every code whose ancestor is also present (sorted result)."""
    kept: list[str] = []
    for code in sorted(set(codes), key=lambda c: (len(c), c)):
        if not any(code.startswith(k) for k in kept):
            kept.append(code)
    return sorted(kept)


def target(screens: Sequence[Screen], areas: Sequence[Area]) -> Targets:
    """The screens inside ``areas`` and the topics that reach them all."""
    if not screens:
        return Targets([], minimal_cover(c for a in areas for c in a.region_codes()))
    index = TerminalIndex(
        [s.id for s in screens],
        np.fromiter((s.lat for s in screens), dtype=np.float64, count=len(screens)),
        np.fromiter((s.lon for s in screens), dtype=np.float64, count=len(screens)),
        [s.region for s in screens],
    )
    hit = index.target_mask(areas)
    region_codes = [c for a in areas for c in a.region_codes()]
    geometric = [Area(a.area_desc, a.polygons, a.circles) for a in areas]
    if any(a.polygons or a.circles for a in geometric):
        in_shapes = index.target_mask(geometric)
        region_codes += [
            s.region[:COUNTY] for s, inside in zip(screens, in_shapes, strict=True) if inside
        ]
    chosen = [s for s, inside in zip(screens, hit, strict=True) if inside]
    return Targets(chosen, minimal_cover(region_codes))


def jurisdiction_shape(screens: Sequence[Screen]) -> BaseGeometry | None:
    """The issuer's reach for polygons and circles: the convex hull of their
    screens (no boundary data ships; see adapters.geo.jurisdiction)."""
    if not screens:
        return None
    points = shapely.multipoints([(s.lon, s.lat) for s in screens])
    return shapely.convex_hull(points)
