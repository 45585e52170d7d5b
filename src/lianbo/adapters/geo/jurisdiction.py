"""May this issuer alert this area? (Jurisdiction rules for alerts.)

Two kinds of area part, two rules (docs/alerts.md, "Areas"):

* A GB/T 2260 geocode states an intent: "this region". One outside the
  issuer's subtree is refused (403) — the issuer may not have that intent.
* Polygons and circles are geography. They reach the issuer's own screens
  inside them and nothing else (targeting keeps to the jurisdiction's
  screens), so a shape crossing the border is accepted; the part outside
  reaches no screen, and a warning says so. Deciding "outside" needs the
  jurisdiction's outline (shapely, x = lon, y = lat): a boundary when one
  is known (``services.alert_outline``), else the convex hull of the
  jurisdiction's known screens (:func:`hull_of_positions`), the best guess
  without a boundary. Without either nothing is said. Circles are tested as
  their 72-point geodesic ring.
"""

from __future__ import annotations

from collections.abc import Sequence

import shapely
from shapely.geometry.base import BaseGeometry

from lianbo.adapters.geo.index import ring_polygon
from lianbo.domain.alerting.geodesy import circle_ring
from lianbo.domain.alerting.model import GB_T_2260_NAMES, Alert, Area
from lianbo.domain.alerting.warnings import CapWarning, WarningCode
from lianbo.domain.errors import Forbidden
from lianbo.domain.regions import is_within, normalise_code


def hull_of_positions(lats: Sequence[float], lons: Sequence[float]) -> BaseGeometry:
    """Convex hull (x = lon, y = lat) of terminal positions."""
    return shapely.convex_hull(shapely.multipoints(list(zip(lons, lats, strict=True))))


def _parts(alert: Alert) -> list[tuple[str, Area]]:
    return [
        (f"alert/info[{i}]/area[{j}]", area)
        for i, info in enumerate(alert.infos, 1)
        for j, area in enumerate(info.areas, 1)
    ]


def check_alert_jurisdiction(alert: Alert, jurisdiction: str) -> None:
    """Raise Forbidden naming the first geocode outside the jurisdiction."""
    for path, area in _parts(alert):
        check_area_jurisdiction(path, area, jurisdiction)


def check_area_jurisdiction(path: str, area: Area, jurisdiction: str) -> None:
    """Check one area's geocodes; ``path`` prefixes the part named in the error.
    A nationwide jurisdiction ("") holds every region."""
    if not jurisdiction:
        return
    home = normalise_code(jurisdiction, field="jurisdiction")
    for n, (name, value) in enumerate(area.geocodes, 1):
        if name.strip() in GB_T_2260_NAMES and not is_within(normalise_code(value), home):
            raise Forbidden(
                f"region {value} is outside jurisdiction {home}", field=f"{path}/geocode[{n}]"
            )


def shapes_of(path: str, area: Area) -> list[tuple[str, BaseGeometry]]:
    """The area's polygons and circles as shapely polygons, each with its path."""
    parts: list[tuple[str, BaseGeometry]] = [
        (f"{path}/polygon[{n}]", ring_polygon(ring)) for n, ring in enumerate(area.polygons, 1)
    ]
    parts += [
        (f"{path}/circle[{n}]", ring_polygon(circle_ring(c.lat, c.lon, c.radius_km)))
        for n, c in enumerate(area.circles, 1)
    ]
    return parts


def area_warnings(
    path: str, area: Area, jurisdiction: str, outline: BaseGeometry | None
) -> list[CapWarning]:
    """A warning for each shape of ``area`` reaching beyond ``outline``:
    ``area_partly_outside`` or (not touching it at all) ``area_outside``."""
    if not jurisdiction or outline is None:
        return []
    home = normalise_code(jurisdiction, field="jurisdiction")
    found = []
    for part, shape in shapes_of(path, area):
        if outline.covers(shape):
            continue
        whole = not outline.intersects(shape)
        code = WarningCode.AREA_OUTSIDE if whole else WarningCode.AREA_PARTLY_OUTSIDE
        found.append(CapWarning(part, code, home))
    return found


def alert_warnings(
    alert: Alert, jurisdiction: str, outline: BaseGeometry | None
) -> tuple[CapWarning, ...]:
    """:func:`area_warnings` of every area of every info block (an area
    repeated by the next language's info block is warned about once)."""
    seen: set[tuple[object, ...]] = set()
    found: list[CapWarning] = []
    for path, area in _parts(alert):
        if (area.polygons, area.circles) not in seen:
            seen.add((area.polygons, area.circles))
            found += area_warnings(path, area, jurisdiction, outline)
    return tuple(found)
