"""Geometry for the dashboard's inline SVG: bars, a fitted map, grid, labels.

Pure functions over numbers, no templates and no I/O, so they are cheap to
test. The map is an equirectangular projection with longitude scaled by
cos(mid-latitude), which keeps a province's shape honest without a GIS
library or tiles (control rooms are offline).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

# Degrees: a single terminal (or a tight cluster) still gets a readable map.
MIN_SPAN = 0.05
PADDING = 0.08


@dataclass(frozen=True, slots=True)
class Segment:
    """One coloured part of a stacked bar, in percent of the bar."""

    key: str
    count: int
    start: float
    width: float


def stacked(counts: Mapping[str, int], order: Sequence[str]) -> list[Segment]:
    """Segments for the non-zero ``counts`` in ``order``; widths sum to 100."""
    total = sum(counts.get(key, 0) for key in order)
    segments: list[Segment] = []
    start = 0.0
    for key in order:
        count = counts.get(key, 0)
        if count <= 0 or total == 0:
            continue
        width = 100.0 * count / total
        segments.append(Segment(key, count, round(start, 3), round(width, 3)))
        start += width
    return segments


@dataclass(frozen=True, slots=True)
class Projection:
    """Maps (lat, lon) into an SVG box ``width`` x ``height``."""

    west: float
    east: float
    south: float
    north: float
    width: float
    height: float
    scale: float
    kx: float
    x0: float
    y0: float

    def xy(self, lat: float, lon: float) -> tuple[float, float]:
        """SVG coordinates of a position (north up, rounded to 0.1 px)."""
        x = self.x0 + (lon - self.west) * self.kx * self.scale
        y = self.y0 + (self.north - lat) * self.scale
        return round(x, 1), round(y, 1)


def fit(
    positions: Iterable[tuple[float, float]],
    width: float = 960.0,
    min_ratio: float = 0.45,
    max_ratio: float = 0.75,
) -> Projection | None:
    """A projection fitting every (lat, lon) with padding, or None if empty.

    The box height follows the data's shape between ``min_ratio`` and
    ``max_ratio`` of the width, so a tall province is not squashed.
    """
    lats: list[float] = []
    lons: list[float] = []
    for lat, lon in positions:
        lats.append(lat)
        lons.append(lon)
    if not lats:
        return None
    south, north = _padded(min(lats), max(lats))
    west, east = _padded(min(lons), max(lons))
    kx = math.cos(math.radians((south + north) / 2))
    units_w = (east - west) * kx
    units_h = north - south
    height = min(max(width * units_h / units_w, width * min_ratio), width * max_ratio)
    scale = min(width / units_w, height / units_h)
    x0 = (width - units_w * scale) / 2
    y0 = (height - units_h * scale) / 2
    return Projection(west, east, south, north, width, round(height, 1), scale, kx, x0, y0)


def _padded(low: float, high: float) -> tuple[float, float]:
    span = max(high - low, MIN_SPAN)
    middle = (low + high) / 2
    half = span * (0.5 + PADDING)
    return middle - half, middle + half


def nice_step(span: float, lines: int = 6) -> float:
    """A round grid step (1, 2, 2.5 or 5 times a power of ten) giving ~``lines``."""
    raw = span / max(lines, 1)
    power = 10.0 ** math.floor(math.log10(raw))
    for factor in (1.0, 2.0, 2.5, 5.0, 10.0):
        if factor * power >= raw:
            return factor * power
    return 10 * power  # pragma: no cover - the loop always returns


@dataclass(frozen=True, slots=True)
class GridLine:
    value: float
    position: float
    label: str


def grid(projection: Projection, lines: int = 8) -> tuple[list[GridLine], list[GridLine]]:
    """Meridians (x positions) and parallels (y positions) on round degrees."""
    p = projection
    step = nice_step(max(p.east - p.west, p.north - p.south), lines)
    meridians = [
        GridLine(lon, p.xy(p.north, lon)[0], degrees(lon, "E", "W", step))
        for lon in _ticks(p.west, p.east, step)
    ]
    parallels = [
        GridLine(lat, p.xy(lat, p.west)[1], degrees(lat, "N", "S", step))
        for lat in _ticks(p.south, p.north, step)
    ]
    return meridians, parallels


def _ticks(low: float, high: float, step: float) -> list[float]:
    first = math.ceil(low / step)
    last = math.floor(high / step)
    return [round(i * step, 6) for i in range(first, last + 1)]


def degrees(value: float, positive: str, negative: str, step: float = 1.0) -> str:
    """``30°N``, ``104.5°E``: only as many decimals as the grid step needs."""
    decimals = next((d for d in range(4) if abs(round(step, d) - step) < 1e-9), 4)
    hemisphere = positive if value >= 0 else negative
    return f"{abs(value):.{decimals}f}°{hemisphere}"


@dataclass(frozen=True, slots=True)
class Dot:
    """Terminals of one status drawn as one dot (several when they overlap)."""

    x: float
    y: float
    status: str
    count: int
    name: str


def dots(
    points: Iterable[tuple[str, str, float, float]],
    projection: Projection,
    status_order: Sequence[str],
    cell: float = 4.0,
) -> list[Dot]:
    """(name, status, lat, lon) points binned into ``cell``-pixel squares.

    Binning keeps the SVG small for tens of thousands of screens; the draw
    order puts the statuses that need attention (last in ``status_order``)
    on top.
    """
    bins: dict[tuple[int, int, str], list[tuple[float, float, str]]] = {}
    for name, status, lat, lon in points:
        x, y = projection.xy(lat, lon)
        bins.setdefault((int(x // cell), int(y // cell), status), []).append((x, y, name))
    rank = {status: i for i, status in enumerate(status_order)}
    found = []
    for (_, _, status), members in bins.items():
        x = sum(m[0] for m in members) / len(members)
        y = sum(m[1] for m in members) / len(members)
        found.append(Dot(round(x, 1), round(y, 1), status, len(members), members[0][2]))
    return sorted(found, key=lambda d: (rank.get(d.status, -1), d.count))


@dataclass(frozen=True, slots=True)
class Label:
    """A cluster's name above a halo centred on (x, cy); ``y`` is the baseline."""

    x: float
    y: float
    cy: float
    text: str
    count: int
    radius: float


def labels(
    clusters: Iterable[tuple[str, int, float, float]],
    projection: Projection,
    limit: int = 24,
    font: float = 13.0,
) -> list[Label]:
    """Names for the biggest (name, count, lat, lon) clusters that fit.

    Largest first, above the cluster or else below it; a label that fits
    neither way without covering a placed label or halo is dropped, which
    keeps a city's districts from piling up.
    """
    ranked = sorted(clusters, key=lambda c: -c[1])
    biggest = max((c[1] for c in ranked), default=1) or 1
    placed: list[Label] = []
    boxes: list[tuple[float, float, float, float]] = []
    for name, count, lat, lon in ranked:
        if len(placed) >= limit:
            break
        x, y = projection.xy(lat, lon)
        # Halo area grows with the cluster, relative to the biggest one.
        radius = round(8 + 26 * math.sqrt(max(count, 0) / biggest), 1)
        # Above the halo reads best; below it is the fallback.
        for baseline in (y - radius - 4, y + radius + font + 2):
            box = _text_box(name, x, baseline, font)
            if not any(_overlap(box, other) for other in boxes):
                break
        else:
            continue
        # A placed cluster's halo is taken too: a neighbour's name must not
        # sit on top of it.
        boxes += [box, (x - radius, y - radius, x + radius, y + radius)]
        placed.append(Label(x, round(baseline, 1), y, name, count, radius))
    return placed


def _text_box(
    text: str, x: float, baseline: float, font: float
) -> tuple[float, float, float, float]:
    # CJK glyphs are about one em wide, Latin about half: close enough to
    # keep labels apart without measuring fonts on the server.
    width = sum(font if ord(ch) > 0x2E80 else font * 0.6 for ch in text) + 30
    return x - width / 2, baseline - font, x + width / 2, baseline + 3


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
