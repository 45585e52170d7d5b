"""Reading an admin's outline file: a GeoJSON FeatureCollection whose
features carry their region code in a property.

Every fault is an :class:`OutlineFileError` with one line naming the
feature (its 1-based number and code), never the parser's own text: the
CLI prints it as is. Geometry must be Polygon or MultiPolygon in lon/lat
degrees and valid (rings closed, not crossing themselves).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry

from lianbo.adapters.geo.outlines import from_geojson, to_geojson
from lianbo.domain.errors import InvalidInput
from lianbo.domain.regions import normalise_code

MAX_FILE_BYTES = 200 * 1024 * 1024
AREAL = ("Polygon", "MultiPolygon")


class OutlineFileError(ValueError):
    """The file cannot be loaded; ``str()`` is the one-line reason."""


@dataclass(frozen=True, slots=True)
class OutlineFeature:
    """One feature of the file, read and checked."""

    code: str  # short form
    geometry: dict[str, Any]  # GeoJSON geometry, as it will be stored


def parse_collection(data: bytes) -> list[Any]:
    """The features list of a FeatureCollection document."""
    if len(data) > MAX_FILE_BYTES:
        raise OutlineFileError(f"file is over {MAX_FILE_BYTES // (1024 * 1024)} MiB")
    try:
        document = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        raise OutlineFileError("not JSON (expected a GeoJSON FeatureCollection)") from None
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection":
        raise OutlineFileError("not a GeoJSON FeatureCollection")
    features = document.get("features")
    if not isinstance(features, list) or not features:
        raise OutlineFileError("the FeatureCollection has no features")
    return features


def read_features(features: list[Any], prop: str) -> Iterator[OutlineFeature]:
    """Each feature checked in order; the first bad one raises."""
    seen: set[str] = set()
    for n, feature in enumerate(features, 1):
        code = _code(n, feature, prop)
        if code in seen:
            raise OutlineFileError(f"feature {n}: region {code} appears twice")
        seen.add(code)
        yield OutlineFeature(code, _geometry(n, code, feature))


def _code(n: int, feature: Any, prop: str) -> str:
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        raise OutlineFileError(f"feature {n}: not a GeoJSON Feature")
    properties = feature.get("properties")
    raw = properties.get(prop) if isinstance(properties, dict) else None
    if raw is None or isinstance(raw, bool) or not isinstance(raw, str | int):
        raise OutlineFileError(f"feature {n}: no region code in property {prop!r}")
    try:
        return normalise_code(str(raw))
    except InvalidInput:
        raise OutlineFileError(f"feature {n}: {str(raw)[:20]!r} is not a region code") from None


def _geometry(n: int, code: str, feature: dict[str, Any]) -> dict[str, Any]:
    value = feature.get("geometry")
    kind = value.get("type") if isinstance(value, dict) else None
    if kind not in AREAL:
        raise OutlineFileError(f"feature {n} ({code}): geometry must be a Polygon or MultiPolygon")
    try:
        shape = from_geojson(value)  # type: ignore[arg-type]  # checked: a dict
    except (ValueError, TypeError, IndexError, KeyError, AttributeError):
        raise OutlineFileError(f"feature {n} ({code}): malformed coordinates") from None
    _check_shape(n, code, shape)
    return to_geojson(shape)


def _check_shape(n: int, code: str, shape: BaseGeometry) -> None:
    if shape.is_empty:
        raise OutlineFileError(f"feature {n} ({code}): empty geometry")
    west, south, east, north = shape.bounds
    if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
        raise OutlineFileError(f"feature {n} ({code}): coordinates are not lon/lat degrees")
    if not shape.is_valid:
        reason = shapely.is_valid_reason(shape).split("[")[0].strip()
        raise OutlineFileError(f"feature {n} ({code}): invalid geometry ({reason})")
