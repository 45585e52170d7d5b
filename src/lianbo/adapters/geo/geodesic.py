"""Vectorised Vincenty inverse (WGS-84) with numpy: one centre, many points.

Mirrors :func:`lianbo.domain.alerting.geodesy.geodesic_distance_m`, which
players use for the same decision; the unit tests hold the two together.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from lianbo.domain.alerting.geodesy import AUTHALIC_RADIUS, A, B, F, destination
from lianbo.domain.alerting.model import Circle

FloatArray = NDArray[np.float64]
_TOLERANCE = 1e-12
_MAX_ITERATIONS = 200  # as the domain, so both give up on the same pairs


def distances_m(lat0: float, lon0: float, lats: FloatArray, lons: FloatArray) -> FloatArray:
    """Geodesic distance in metres from (lat0, lon0) to each point."""
    u1 = np.arctan((1 - F) * np.tan(np.radians(lat0)))
    u2 = np.arctan((1 - F) * np.tan(np.radians(lats)))
    big_l = np.radians(lons - lon0)
    sin_u1, cos_u1, sin_u2, cos_u2 = np.sin(u1), np.cos(u1), np.sin(u2), np.cos(u2)
    lam = big_l.copy()
    converged = np.zeros(lam.shape, dtype=bool)
    with np.errstate(divide="ignore", invalid="ignore"):
        for _ in range(_MAX_ITERATIONS):
            sin_l, cos_l = np.sin(lam), np.cos(lam)
            sin_s = np.hypot(cos_u2 * sin_l, cos_u1 * sin_u2 - sin_u1 * cos_u2 * cos_l)
            cos_s = sin_u1 * sin_u2 + cos_u1 * cos_u2 * cos_l
            sigma = np.arctan2(sin_s, cos_s)
            sin_a = np.where(sin_s == 0, 0.0, cos_u1 * cos_u2 * sin_l / sin_s)
            cos_sq_a = 1 - sin_a**2
            cos_2sm = np.where(cos_sq_a == 0, 0.0, cos_s - 2 * sin_u1 * sin_u2 / cos_sq_a)
            c = F / 16 * cos_sq_a * (4 + F * (4 - 3 * cos_sq_a))
            previous = lam
            lam = big_l + (1 - c) * F * sin_a * (
                sigma + c * sin_s * (cos_2sm + c * cos_s * (-1 + 2 * cos_2sm**2))
            )
            converged = np.abs(lam - previous) < _TOLERANCE
            if np.all(converged):
                break
    lengths = _length(sigma, sin_s, cos_s, cos_2sm, cos_sq_a)
    result: FloatArray = np.where(sin_s == 0, 0.0, lengths)
    if not np.all(converged):  # nearly antipodal: the domain's fallback, vectorised
        result = np.where(converged, result, _great_circle_m(lat0, lon0, lats, lons))
    return result


def _length(
    sigma: FloatArray,
    sin_s: FloatArray,
    cos_s: FloatArray,
    cos_2sm: FloatArray,
    cos_sq_a: FloatArray,
) -> FloatArray:
    """Vincenty's series: arc length on the ellipsoid from the converged sigma."""
    u_sq = cos_sq_a * (A**2 - B**2) / B**2
    big_a = 1 + u_sq / 16384 * (4096 + u_sq * (-768 + u_sq * (320 - 175 * u_sq)))
    big_b = u_sq / 1024 * (256 + u_sq * (-128 + u_sq * (74 - 47 * u_sq)))
    inner = cos_s * (-1 + 2 * cos_2sm**2) - big_b / 6 * cos_2sm * (-3 + 4 * sin_s**2) * (
        -3 + 4 * cos_2sm**2
    )
    delta = big_b * sin_s * (cos_2sm + big_b / 4 * inner)
    result: FloatArray = B * big_a * (sigma - delta)
    return result


def _great_circle_m(lat0: float, lon0: float, lats: FloatArray, lons: FloatArray) -> FloatArray:
    p1, p2 = np.radians(lat0), np.radians(lats)
    h = (
        np.sin((p2 - p1) / 2) ** 2
        + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lons - lon0) / 2) ** 2
    )
    result: FloatArray = 2 * AUTHALIC_RADIUS * np.arcsin(np.minimum(1.0, np.sqrt(h)))
    return result


def circle_bounds(circle: Circle) -> tuple[float, float, float, float]:
    """(min_lon, min_lat, max_lon, max_lat) holding the geodesic circle.

    Sampled every 22.5° of azimuth; the ring bulges at most 1 − cos 11.25°
    (2 %) of the radius past a chord, so a 5 % margin of the extent holds
    it all (this is only a prefilter: the exact test follows)."""
    metres = circle.radius_km * 1000
    ring = [destination(circle.lat, circle.lon, az * 22.5, metres) for az in range(16)]
    lats = [p[0] for p in ring] + [circle.lat]
    lons = [p[1] for p in ring] + [circle.lon]
    pad_lat = (max(lats) - min(lats)) * 0.05 + 1e-9
    pad_lon = (max(lons) - min(lons)) * 0.05 + 1e-9
    return (min(lons) - pad_lon, min(lats) - pad_lat, max(lons) + pad_lon, max(lats) + pad_lat)
