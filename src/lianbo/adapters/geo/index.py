"""Server-side targeting: which terminals lie in an alert's areas.

The index is built once per fleet snapshot: positions sorted by longitude,
so each polygon or circle first takes a contiguous slice by binary search on
its bounding box, then a numpy latitude filter, and only the survivors meet
the exact test — ``shapely.intersects_xy`` against the prepared polygon
(edges count as inside, like the device-side ray casting) or the
vectorised ellipsoidal distance for circles. Region codes match by prefix
over the distinct region codes, then one table lookup per terminal.

This beats an STRtree over a million point geometries (building those alone
costs more than the whole query) and an STRtree over the polygons queried
with a million points; ``bench/alerts_core.py`` measures both.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import shapely
from numpy.typing import NDArray

from lianbo.adapters.geo.geodesic import FloatArray, circle_bounds, distances_m
from lianbo.domain.alerting.model import Area, Circle, Point

BoolArray = NDArray[np.bool_]


def ring_polygon(ring: Sequence[Point]) -> shapely.Polygon:
    """A shapely polygon (x = lon, y = lat) from a CAP ring of (lat, lon)."""
    return shapely.Polygon([(lon, lat) for lat, lon in ring])


def polygons_array(rings: Sequence[Sequence[Point]]) -> NDArray[np.object_]:
    """Shapely polygons (x = lon, y = lat) from CAP rings, built in one call."""
    coords = np.array([(lon, lat) for ring in rings for lat, lon in ring], dtype=np.float64)
    ring_offsets = np.cumsum([0, *(len(ring) for ring in rings)])
    polygon_offsets = np.arange(len(rings) + 1)
    polygons: NDArray[np.object_] = shapely.from_ragged_array(
        shapely.GeometryType.POLYGON, coords, (ring_offsets, polygon_offsets)
    )
    return polygons


class TerminalIndex:
    """Terminal positions and regions, arranged for fast area queries."""

    def __init__(
        self,
        ids: Sequence[str],
        lats: Sequence[float] | FloatArray,
        lons: Sequence[float] | FloatArray,
        regions: Sequence[str],
        tiers: Sequence[str] = (),
    ) -> None:
        lon_arr = np.asarray(lons, dtype=np.float64)
        self._order = np.argsort(lon_arr, kind="stable")
        self._lon = lon_arr[self._order]
        self._lat = np.asarray(lats, dtype=np.float64)[self._order]
        self._ids = list(ids)
        numbers: dict[str, int] = {}  # a dict beats np.unique's string sort 10×
        inverse = np.fromiter(
            (numbers.setdefault(r, len(numbers)) for r in regions),
            dtype=np.int32,
            count=len(regions),
        )
        self._region_names: list[str] = list(numbers)
        self._region_of = inverse[self._order]
        tier_numbers: dict[str, int] = {}
        tier_of = np.fromiter(
            (tier_numbers.setdefault(t, len(tier_numbers)) for t in tiers),
            dtype=np.int32,
            count=len(tiers),
        )
        self._tier_names: list[str] = list(tier_numbers) or [""]
        self._tier_of = tier_of[self._order] if len(tiers) else np.zeros(len(self._ids), np.int32)

    def __len__(self) -> int:
        return len(self._ids)

    def _slice(self, min_lon: float, max_lon: float) -> slice:
        lo = int(np.searchsorted(self._lon, min_lon, side="left"))
        hi = int(np.searchsorted(self._lon, max_lon, side="right"))
        return slice(lo, hi)

    def _box(self, bounds: tuple[float, float, float, float]) -> tuple[int, NDArray[np.intp]]:
        """Start of the lon slice and offsets within it that fall in the box."""
        min_lon, min_lat, max_lon, max_lat = bounds
        window = self._slice(min_lon, max_lon)
        lat = self._lat[window]
        hits = np.flatnonzero((lat >= min_lat) & (lat <= max_lat))
        return window.start, hits

    def mark_regions(self, codes: Iterable[str], mask: BoolArray) -> None:
        """Set ``mask`` (sorted order) for terminals in any region subtree."""
        prefixes = tuple(codes)
        if not prefixes:
            return
        table = np.fromiter((n.startswith(prefixes) for n in self._region_names), dtype=bool)
        mask |= table[self._region_of]

    def mark_polygons(self, rings: Sequence[Sequence[Point]], mask: BoolArray) -> None:
        """Set ``mask`` for terminals inside or on the edge of any ring."""
        if not rings:
            return
        polygons = polygons_array(rings)
        shapely.prepare(polygons)
        for polygon, bounds in zip(polygons, shapely.bounds(polygons), strict=True):
            start, hits = self._box((bounds[0], bounds[1], bounds[2], bounds[3]))
            idx = hits + start
            inside = shapely.intersects_xy(polygon, self._lon[idx], self._lat[idx])
            mask[idx[inside]] = True

    def mark_circle(self, circle: Circle, mask: BoolArray) -> None:
        """Set ``mask`` for terminals within the circle on the ellipsoid."""
        start, hits = self._box(circle_bounds(circle))
        idx = hits + start
        dist = distances_m(circle.lat, circle.lon, self._lat[idx], self._lon[idx])
        mask[idx[dist <= circle.radius_km * 1000]] = True

    def sorted_mask(self, areas: Iterable[Area]) -> BoolArray:
        """Terminals in any area, in the index's (longitude) order."""
        mask = np.zeros(len(self._ids), dtype=bool)
        for area in areas:
            self.mark_regions(area.region_codes(), mask)
            self.mark_polygons(area.polygons, mask)
            for circle in area.circles:
                self.mark_circle(circle, mask)
        return mask

    def target_mask(self, areas: Iterable[Area], within: str | None = None) -> BoolArray:
        """Terminals in any area, as a mask in the order they were given;
        with ``within``, only those whose region is in that subtree (an
        issuer's shapes reach their own screens only)."""
        return self.unsorted(self.selected(areas, within))

    def within_sorted(self, mask: BoolArray, within: str | None) -> BoolArray:
        """``mask`` (sorted order) keeping only terminals in ``within``'s subtree."""
        if not within:  # nationwide (or not asked): every terminal
            return mask
        inside = np.zeros(len(self._ids), dtype=bool)
        self.mark_regions([within], inside)
        return mask & inside

    def unsorted(self, mask: BoolArray) -> BoolArray:
        """A mask in the index's order as one in the order they were given."""
        result = np.zeros(len(self._ids), dtype=bool)
        result[self._order[mask]] = True
        return result

    def selected(self, areas: Iterable[Area], within: str | None = None) -> BoolArray:
        """Terminals in any area (and in ``within``'s subtree), sorted order."""
        return self.within_sorted(self.sorted_mask(areas), within)

    def counts(self, mask: BoolArray) -> list[tuple[str, str, int]]:
        """(region, tier, terminals) of a sorted-order mask, per distinct
        pair: one ``bincount``, no loop over terminals."""
        width = len(self._tier_names)
        pairs = self._region_of[mask].astype(np.int64) * width + self._tier_of[mask]
        counted = np.bincount(pairs, minlength=len(self._region_names) * width)
        return [
            (self._region_names[int(k) // width], self._tier_names[int(k) % width], int(counted[k]))
            for k in np.flatnonzero(counted)
        ]

    def target_ids(self, areas: Iterable[Area], within: str | None = None) -> list[str]:
        """Ids of the terminals in any area, in the order they were given."""
        positions = np.flatnonzero(self.target_mask(areas, within))
        return [self._ids[i] for i in positions]
