"""Geodesic distance on WGS-84: the domain (players) and numpy (server)
implementations agree with reference values and with each other."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lianbo.adapters.geo.geodesic import circle_bounds, distances_m
from lianbo.domain.alerting.geodesy import circle_ring, destination, geodesic_distance_m
from lianbo.domain.alerting.model import Circle


def _dms(d: int, m: int, s: float) -> float:
    return math.copysign(abs(d) + m / 60 + s / 3600, d)


FLINDERS = (_dms(-37, 57, 3.72030), _dms(144, 25, 29.52440))
BUNINYONG = (_dms(-37, 39, 10.15610), _dms(143, 55, 35.38390))


def test_vincenty_reference_flinders_peak_to_buninyong() -> None:
    # Geoscience Australia's worked example: 54 972.271 m.
    assert geodesic_distance_m(*FLINDERS, *BUNINYONG) == pytest.approx(54_972.271, abs=0.01)


def test_reference_values_pole_to_equator_and_equator_degree() -> None:
    # Quarter meridian of WGS-84 is 10 001 965.729 m; one degree of equator 111 319.491 m.
    assert geodesic_distance_m(0, 0, 90, 0) == pytest.approx(10_001_965.729, abs=0.01)
    assert geodesic_distance_m(0, 0, 0, 1) == pytest.approx(111_319.491, abs=0.01)


def test_coincident_points_are_zero_apart() -> None:
    assert geodesic_distance_m(30.66, 104.06, 30.66, 104.06) == 0.0
    assert distances_m(30.66, 104.06, np.array([30.66]), np.array([104.06]))[0] == 0.0


def test_ellipsoid_differs_from_a_sphere_where_it_matters() -> None:
    # 30°N → 31°N: the meridian-arc series 111 132.954 − 559.822·cos 2φ + 1.175·cos 4φ
    # at φ = 30.5° gives 110 860.9 m; the mean sphere would say 111 195 m.
    assert geodesic_distance_m(30, 104, 31, 104) == pytest.approx(110_860.9, abs=0.5)


coords = st.tuples(st.floats(-80, 80), st.floats(-179, 179))


@settings(max_examples=200, deadline=None)
@given(coords, st.floats(1, 500_000), st.floats(0, 360))
def test_direct_and_inverse_agree(start: tuple[float, float], dist: float, azimuth: float) -> None:
    lat2, lon2 = destination(*start, azimuth, dist)
    assert geodesic_distance_m(*start, lat2, lon2) == pytest.approx(dist, abs=1e-3)


@settings(max_examples=100, deadline=None)
@given(coords, st.lists(coords, min_size=1, max_size=20))
def test_numpy_matches_domain(
    centre: tuple[float, float], points: list[tuple[float, float]]
) -> None:
    lats = np.array([p[0] for p in points])
    lons = np.array([p[1] for p in points])
    fast = distances_m(*centre, lats, lons)
    exact = [geodesic_distance_m(*centre, lat, lon) for lat, lon in points]
    np.testing.assert_allclose(fast, exact, rtol=1e-9, atol=1e-6)


def test_circle_ring_is_closed_and_at_radius() -> None:
    ring = circle_ring(30.66, 104.06, 10)
    assert ring[0] == ring[-1] and len(ring) == 73
    for lat, lon in ring:
        assert geodesic_distance_m(30.66, 104.06, lat, lon) == pytest.approx(10_000, abs=1e-3)


def test_circle_bounds_hold_the_circle() -> None:
    circle = Circle(60.0, 25.0, 50)
    min_lon, min_lat, max_lon, max_lat = circle_bounds(circle)
    for lat, lon in circle_ring(circle.lat, circle.lon, circle.radius_km, 720):
        assert min_lat <= lat <= max_lat and min_lon <= lon <= max_lon
