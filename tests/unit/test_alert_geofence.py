"""Device-side geofence (standard library) agrees with the server index."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from lianbo.adapters.geo import TerminalIndex
from lianbo.domain.alerting.geodesy import destination
from lianbo.domain.alerting.geofence import in_any_area, in_area, in_circle, in_polygon
from lianbo.domain.alerting.model import Area, Circle

SQUARE = ((30.5, 103.9), (30.5, 104.2), (30.8, 104.2), (30.8, 103.9), (30.5, 103.9))
CHENGDU = (30.6598, 104.0633)


def test_ray_casting_inside_outside_and_edges() -> None:
    assert in_polygon(30.6, 104.0, SQUARE)
    assert not in_polygon(30.9, 104.0, SQUARE)
    assert in_polygon(30.5, 104.0, SQUARE)  # on an edge
    assert in_polygon(30.8, 104.2, SQUARE)  # on a vertex
    assert not in_polygon(30.6, 104.3, SQUARE)


def test_circle_9_9_km_in_and_10_1_km_out() -> None:
    circle = Circle(*CHENGDU, 10.0)
    for azimuth in (0, 45, 90, 180, 270):
        assert in_circle(*destination(*CHENGDU, azimuth, 9_900), circle)
        assert not in_circle(*destination(*CHENGDU, azimuth, 10_100), circle)


def test_device_decision_with_region_geocodes() -> None:
    area = Area("成都", geocodes=(("GB/T2260", "510100"),))
    assert in_area(0, 0, area, region="510107")
    assert not in_area(0, 0, area, region="5107")
    assert not in_area(0, 0, area)
    assert in_any_area(0, 0, [])  # no area: everyone addressed
    assert not in_any_area(0, 0, [area])


# Grid coordinates (multiples of 1/64 degree) make every edge test exact in
# floating point, so boundary points are decided the same way on both sides.
grid = st.integers(0, 64 * 4).map(lambda k: k / 64)
points = st.tuples(grid, grid)
rings = st.lists(points, min_size=3, max_size=12).map(lambda p: (*p, p[0]))


@settings(max_examples=300, deadline=None)
@given(rings, st.lists(points, min_size=1, max_size=40))
def test_polygon_device_matches_server(
    ring: tuple[tuple[float, float], ...], probes: list[tuple[float, float]]
) -> None:
    import shapely

    from lianbo.adapters.geo import ring_polygon

    if not shapely.is_valid(ring_polygon(ring)):
        return  # self-intersecting rings have no agreed inside
    _agree(Area("p", polygons=(ring,)), probes)


@settings(max_examples=100, deadline=None)
@given(
    st.floats(-60, 60),
    st.floats(-170, 170),
    st.floats(0.5, 200),
    st.lists(st.tuples(st.floats(0, 360), st.floats(0, 2)), min_size=1, max_size=40),
)
def test_circle_device_matches_server(
    lat: float, lon: float, radius_km: float, polar: list[tuple[float, float]]
) -> None:
    probes = [destination(lat, lon, az, f * radius_km * 1000) for az, f in polar]
    _agree(Area("c", circles=(Circle(lat, lon, radius_km),)), probes)


def _agree(area: Area, probes: list[tuple[float, float]]) -> None:
    lats = np.array([p[0] for p in probes])
    lons = np.array([p[1] for p in probes])
    server = TerminalIndex([str(i) for i in range(len(probes))], lats, lons, ["1"] * len(probes))
    mask = server.target_mask([area]).tolist()
    assert mask == [in_area(lat, lon, area) for lat, lon in probes]
