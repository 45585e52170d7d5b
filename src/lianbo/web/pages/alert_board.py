"""The live delivery board of one alert: progress, map dots, who is missing.

Pure shaping of what the alert service reports (counts, per tier/region
progress, deliveries) into bars and dots; no queries here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from lianbo.services.area_preview import Screen
from lianbo.web import charts

# Delivery states as the board groups them: done (green), not applicable
# (outside the area, grey), failed (red), still on its way (amber).
DONE = ("displayed",)
ASIDE = ("outside-area", "cancelled")
FAILED = ("failed",)
WAITING = ("sent", "received", "verified")
DOT_ORDER = ("outside-area", "cancelled", "displayed", "sent", "received", "verified", "failed")


@dataclass(frozen=True, slots=True)
class Progress:
    """One bar: how many of ``total`` display the alert (or are set aside)."""

    key: str
    label: str
    total: int
    displayed: int
    aside: int
    failed: int

    @property
    def waiting(self) -> int:
        """Still on their way."""
        return self.total - self.displayed - self.aside - self.failed

    @property
    def percent(self) -> float:
        """Share displaying, of those the alert applies to."""
        applies = self.total - self.aside
        return round(100.0 * self.displayed / applies, 1) if applies > 0 else 100.0


def progress(counted: Mapping[str, Mapping[str, int]], names: Mapping[str, str]) -> list[Progress]:
    """Bars from the service's ``{key: {state: n, "total": n}}`` counts."""
    bars = []
    for key, states in sorted(counted.items()):
        bars.append(
            Progress(
                key,
                names.get(key, key),
                states.get("total", 0),
                sum(states.get(s, 0) for s in DONE),
                sum(states.get(s, 0) for s in ASIDE),
                sum(states.get(s, 0) for s in FAILED),
            )
        )
    return bars


def dots(
    states: Mapping[str, str], screens: Mapping[str, Screen], projection: charts.Projection
) -> list[charts.Dot]:
    """One dot per targeted screen, coloured by its delivery state."""
    points = (
        (screens[tid].name, state, screens[tid].lat, screens[tid].lon)
        for tid, state in states.items()
        if tid in screens
    )
    return charts.dots(points, projection, list(DOT_ORDER))


@dataclass(frozen=True, slots=True)
class Outline:
    """The alert's drawn area on the board map: SVG paths and circles."""

    paths: list[str]
    circles: list[tuple[float, float, float]]


KM_PER_DEGREE = 111.32  # north-south; the map scales latitude 1:1


def _area_points(area: Mapping[str, Any]) -> list[tuple[float, float]]:
    """Every position the outline must show: vertices and circles' extremes."""
    points = [(float(p[0]), float(p[1])) for ring in area.get("polygons", []) for p in ring]
    for c in area.get("circles", []):
        reach = float(c["radius_km"]) / KM_PER_DEGREE
        points += [
            (float(c["lat"]) + reach, float(c["lon"])),
            (float(c["lat"]) - reach, float(c["lon"])),
        ]
    return points


def outline(area: Mapping[str, Any], projection: charts.Projection) -> Outline:
    """Polygons as paths and circles as (cx, cy, r) in the map's pixels."""
    paths = []
    for ring in area.get("polygons", []):
        xy = [projection.xy(float(lat), float(lon)) for lat, lon in ring]
        paths.append("M" + " L".join(f"{x} {y}" for x, y in xy) + " Z")
    circles = []
    for c in area.get("circles", []):
        x, y = projection.xy(float(c["lat"]), float(c["lon"]))
        radius = float(c["radius_km"]) / KM_PER_DEGREE * projection.scale
        circles.append((x, y, round(radius, 1)))
    return Outline(paths, circles)


def map_view(
    screens: Sequence[Screen], states: Mapping[str, str], area: Mapping[str, Any]
) -> dict[str, Any] | None:
    """The board's map over the targeted screens and the drawn area."""
    targeted = {s.id: s for s in screens if s.id in states}
    shape_points = _area_points(area)
    positions = [(s.lat, s.lon) for s in targeted.values()] + shape_points
    projection = charts.fit(positions, width=720.0)
    if projection is None:
        return None
    meridians, parallels = charts.grid(projection)
    return {
        "projection": projection,
        "meridians": meridians,
        "parallels": parallels,
        "dots": dots(states, targeted, projection),
        "outline": outline(area, projection),
    }
