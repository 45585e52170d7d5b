"""Device-side geofencing: is one point inside an alert's area?

A player runs this on its own coordinates (standard library only) and then
acks ``displayed`` or ``outside-area``. Points on a polygon's edge count as
inside, matching the server's index (``shapely.intersects_xy``).
"""

from __future__ import annotations

from collections.abc import Iterable

from lianbo.domain.alerting.geodesy import geodesic_distance_m
from lianbo.domain.alerting.model import Area, Circle, Point


def _on_segment(lat: float, lon: float, a: Point, b: Point) -> bool:
    (y1, x1), (y2, x2) = a, b
    cross = (x2 - x1) * (lat - y1) - (y2 - y1) * (lon - x1)
    if cross != 0:
        return False
    return min(x1, x2) <= lon <= max(x1, x2) and min(y1, y2) <= lat <= max(y1, y2)


def in_polygon(lat: float, lon: float, ring: tuple[Point, ...]) -> bool:
    """Ray casting in the plane of (lon, lat) degrees; edges count as inside."""
    inside = False
    for a, b in zip(ring, ring[1:] + ring[:1], strict=True):
        if _on_segment(lat, lon, a, b):
            return True
        (y1, x1), (y2, x2) = a, b
        if (y1 > lat) != (y2 > lat):
            x_cross = x1 + (lat - y1) * (x2 - x1) / (y2 - y1)
            if lon < x_cross:
                inside = not inside
    return inside


def in_circle(lat: float, lon: float, circle: Circle) -> bool:
    """True when the point is within the circle, measured on the ellipsoid."""
    return geodesic_distance_m(circle.lat, circle.lon, lat, lon) <= circle.radius_km * 1000


def in_area(lat: float, lon: float, area: Area, region: str | None = None) -> bool:
    """Inside any polygon or circle, or (when ``region`` is given) in the
    subtree of any GB/T 2260 geocode."""
    if any(in_polygon(lat, lon, ring) for ring in area.polygons):
        return True
    if any(in_circle(lat, lon, circle) for circle in area.circles):
        return True
    return region is not None and any(region.startswith(c) for c in area.region_codes())


def in_any_area(lat: float, lon: float, areas: Iterable[Area], region: str | None = None) -> bool:
    """The device's decision: True → ``displayed``, False → ``outside-area``.

    An alert without any area addresses everyone it reached."""
    areas = tuple(areas)
    return not areas or any(in_area(lat, lon, area, region) for area in areas)
