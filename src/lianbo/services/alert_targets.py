"""Which screens an alert reaches, and the region topics that carry it.

Cell-broadcast style: the server publishes once per region topic and the
broker (or hub) fans out; each player checks polygons and circles against
its own position. So the topics are the smallest set of region codes that
covers every targeted screen: the area's region codes themselves, and for
polygons and circles the county region of each screen inside (or, for an
issuer below county level, the jurisdiction itself: a topic never reaches
screens outside it, whose own geofence would otherwise show the alert).

Only the issuer's own screens are ever targeted: the candidates are the
jurisdiction's screens, and ``within`` filters them again, so a screen of
the neighbouring city inside a border-crossing circle is never reached.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from lianbo.adapters.db.repos.alerts import Screen
from lianbo.adapters.geo import TerminalIndex
from lianbo.domain.alerting.model import Area
from lianbo.domain.alerting.reach import Reach, reach_region


@dataclass(frozen=True, slots=True)
class Targets:
    screens: list[Screen]
    topics: list[str]
    reach: Reach = field(default_factory=Reach)


def minimal_cover(codes: Iterable[str]) -> list[str]:
    """Drop every code whose ancestor is also present (sorted result)."""
    kept: list[str] = []
    for code in sorted(set(codes), key=lambda c: (len(c), c)):
        if not any(code.startswith(k) for k in kept):
            kept.append(code)
    return sorted(kept)


def index_of(screens: Sequence[Screen]) -> TerminalIndex:
    """The targeting index over ``screens`` (positions, regions, tiers)."""
    return TerminalIndex(
        [s.id for s in screens],
        np.fromiter((s.lat for s in screens), dtype=np.float64, count=len(screens)),
        np.fromiter((s.lon for s in screens), dtype=np.float64, count=len(screens)),
        [s.region for s in screens],
        [s.tier for s in screens],
    )


def target(screens: Sequence[Screen], areas: Sequence[Area], within: str = "") -> Targets:
    """The screens of jurisdiction ``within`` inside ``areas``, the topics
    that reach them all, and how many per region and tier."""
    if not screens:
        return Targets([], minimal_cover(c for a in areas for c in a.region_codes()))
    index = index_of(screens)
    selected = index.selected(areas, within)
    region_codes = [c for a in areas for c in a.region_codes()]
    geometric = [Area(a.area_desc, a.polygons, a.circles) for a in areas]
    if any(a.polygons or a.circles for a in geometric):
        in_shapes = index.counts(index.selected(geometric, within))
        region_codes += [reach_region(region, within) for region, _, _ in in_shapes]
    hit = index.unsorted(selected)
    chosen = [s for s, inside in zip(screens, hit, strict=True) if inside]
    reach = Reach.counted(index.counts(selected), within)
    return Targets(chosen, minimal_cover(region_codes), reach)
