"""Geodesic distance on the WGS-84 ellipsoid (Vincenty 1975), standard
library only, so players can measure circles exactly as the server does.

Vincenty's inverse formula is accurate to well under a millimetre; it can
fail to converge only for nearly antipodal points (never the case for an
alert circle), where we fall back to the great-circle distance on the
authalic sphere, which is then the best answer anyway within 0.5 %.
"""

from __future__ import annotations

import math

A = 6_378_137.0  # WGS-84 semi-major axis, metres
F = 1 / 298.257223563  # WGS-84 flattening
B = A * (1 - F)
AUTHALIC_RADIUS = 6_371_007.2
_TOLERANCE = 1e-12
_MAX_ITERATIONS = 200


def _series(u_sq: float) -> tuple[float, float]:
    big_a = 1 + u_sq / 16384 * (4096 + u_sq * (-768 + u_sq * (320 - 175 * u_sq)))
    big_b = u_sq / 1024 * (256 + u_sq * (-128 + u_sq * (74 - 47 * u_sq)))
    return big_a, big_b


def _delta_sigma(
    big_b: float, sin_s: float, cos_s: float, cos_2sm: float, cos_sq_a: float
) -> float:
    return (
        big_b
        * sin_s
        * (
            cos_2sm
            + big_b
            / 4
            * (
                cos_s * (-1 + 2 * cos_2sm**2)
                - big_b / 6 * cos_2sm * (-3 + 4 * sin_s**2) * (-3 + 4 * cos_2sm**2)
            )
        )
    )


def geodesic_distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Distance in metres between two WGS-84 points (degrees)."""
    u1 = math.atan((1 - F) * math.tan(math.radians(lat1)))
    u2 = math.atan((1 - F) * math.tan(math.radians(lat2)))
    big_l = math.radians(lon2 - lon1)
    sin_u1, cos_u1, sin_u2, cos_u2 = math.sin(u1), math.cos(u1), math.sin(u2), math.cos(u2)
    lam = big_l
    for _ in range(_MAX_ITERATIONS):
        sin_l, cos_l = math.sin(lam), math.cos(lam)
        sin_s = math.hypot(cos_u2 * sin_l, cos_u1 * sin_u2 - sin_u1 * cos_u2 * cos_l)
        if sin_s == 0:
            return 0.0  # coincident points
        cos_s = sin_u1 * sin_u2 + cos_u1 * cos_u2 * cos_l
        sigma = math.atan2(sin_s, cos_s)
        sin_a = cos_u1 * cos_u2 * sin_l / sin_s
        cos_sq_a = 1 - sin_a**2
        cos_2sm = cos_s - 2 * sin_u1 * sin_u2 / cos_sq_a if cos_sq_a != 0 else 0.0
        c = F / 16 * cos_sq_a * (4 + F * (4 - 3 * cos_sq_a))
        previous = lam
        lam = big_l + (1 - c) * F * sin_a * (
            sigma + c * sin_s * (cos_2sm + c * cos_s * (-1 + 2 * cos_2sm**2))
        )
        if abs(lam - previous) < _TOLERANCE:
            break
    else:
        return _great_circle_m(lat1, lon1, lat2, lon2)
    big_a, big_b = _series(cos_sq_a * (A**2 - B**2) / B**2)
    return B * big_a * (sigma - _delta_sigma(big_b, sin_s, cos_s, cos_2sm, cos_sq_a))


def _great_circle_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    h = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * AUTHALIC_RADIUS * math.asin(min(1.0, math.sqrt(h)))


def destination(
    lat: float, lon: float, azimuth_deg: float, distance_m: float
) -> tuple[float, float]:
    """The point ``distance_m`` from (lat, lon) along ``azimuth_deg``
    (Vincenty's direct formula); returns (lat, lon) in degrees."""
    alpha1 = math.radians(azimuth_deg)
    u1 = math.atan((1 - F) * math.tan(math.radians(lat)))
    sigma1 = math.atan2(math.tan(u1), math.cos(alpha1))
    sin_a = math.cos(u1) * math.sin(alpha1)
    cos_sq_a = 1 - sin_a**2
    big_a, big_b = _series(cos_sq_a * (A**2 - B**2) / B**2)
    sigma = distance_m / (B * big_a)
    for _ in range(_MAX_ITERATIONS):
        cos_2sm = math.cos(2 * sigma1 + sigma)
        sin_s, cos_s = math.sin(sigma), math.cos(sigma)
        previous = sigma
        sigma = distance_m / (B * big_a) + _delta_sigma(big_b, sin_s, cos_s, cos_2sm, cos_sq_a)
        if abs(sigma - previous) < _TOLERANCE:
            break
    sin_s, cos_s = math.sin(sigma), math.cos(sigma)
    cos_2sm = math.cos(2 * sigma1 + sigma)
    sin_u1, cos_u1 = math.sin(u1), math.cos(u1)
    tmp = sin_u1 * sin_s - cos_u1 * cos_s * math.cos(alpha1)
    lat2 = math.atan2(
        sin_u1 * cos_s + cos_u1 * sin_s * math.cos(alpha1), (1 - F) * math.hypot(sin_a, tmp)
    )
    lam = math.atan2(sin_s * math.sin(alpha1), cos_u1 * cos_s - sin_u1 * sin_s * math.cos(alpha1))
    c = F / 16 * cos_sq_a * (4 + F * (4 - 3 * cos_sq_a))
    big_l = lam - (1 - c) * F * sin_a * (
        sigma + c * sin_s * (cos_2sm + c * cos_s * (-1 + 2 * cos_2sm**2))
    )
    lon2 = (math.degrees(math.radians(lon) + big_l) + 540) % 360 - 180
    return (math.degrees(lat2), lon2)


def circle_ring(
    lat: float, lon: float, radius_km: float, segments: int = 72
) -> tuple[tuple[float, float], ...]:
    """A closed ring of (lat, lon) points on a geodesic circle."""
    ring = tuple(
        destination(lat, lon, 360 * i / segments, radius_km * 1000) for i in range(segments)
    )
    return (*ring, ring[0])
