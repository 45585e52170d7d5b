"""May this issuer alert this area? (Jurisdiction check for alerts.)

Region codes must lie in the issuer's subtree. Polygons and circles must lie
wholly inside ``shape``: the jurisdiction's outline (shapely, x = lon,
y = lat). Region boundaries do not ship with the package, so the caller
passes the outline it has: a boundary polygon loaded by an admin, or
:func:`hull_of_positions` — the convex hull of the jurisdiction's known
terminals, which is conservative (an issuer can reach every screen they own
but no farther). Without a shape, geometric areas are refused: we cannot
prove they stay inside. Circles are tested as their 72-point geodesic ring.
"""

from __future__ import annotations

from collections.abc import Sequence

import shapely
from shapely.geometry.base import BaseGeometry

from lianbo.adapters.geo.index import ring_polygon
from lianbo.domain.alerting.geodesy import circle_ring
from lianbo.domain.alerting.model import GB_T_2260_NAMES, Alert, Area
from lianbo.domain.errors import Forbidden
from lianbo.domain.regions import is_within, normalise_code


def hull_of_positions(lats: Sequence[float], lons: Sequence[float]) -> BaseGeometry:
    """Convex hull (x = lon, y = lat) of terminal positions."""
    return shapely.convex_hull(shapely.multipoints(list(zip(lons, lats, strict=True))))


def check_alert_jurisdiction(alert: Alert, jurisdiction: str, shape: BaseGeometry | None) -> None:
    """Raise Forbidden naming the first area part outside the jurisdiction."""
    for i, info in enumerate(alert.infos, 1):
        for j, area in enumerate(info.areas, 1):
            check_area_jurisdiction(f"alert/info[{i}]/area[{j}]", area, jurisdiction, shape)


def check_area_jurisdiction(
    path: str, area: Area, jurisdiction: str, shape: BaseGeometry | None
) -> None:
    """Check one area; ``path`` prefixes the part named in the error."""
    home = normalise_code(jurisdiction, field="jurisdiction")
    for n, (name, value) in enumerate(area.geocodes, 1):
        if name.strip() in GB_T_2260_NAMES and not is_within(normalise_code(value), home):
            raise Forbidden(
                f"region {value} is outside jurisdiction {home}", field=f"{path}/geocode[{n}]"
            )
    parts = [
        (f"{path}/polygon[{n}]", ring_polygon(ring)) for n, ring in enumerate(area.polygons, 1)
    ]
    parts += [
        (f"{path}/circle[{n}]", ring_polygon(circle_ring(c.lat, c.lon, c.radius_km)))
        for n, c in enumerate(area.circles, 1)
    ]
    for part_path, geometry in parts:
        if shape is None or not shape.covers(geometry):
            raise Forbidden(f"area reaches outside jurisdiction {home}", field=part_path)
