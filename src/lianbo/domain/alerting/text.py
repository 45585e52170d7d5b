"""CAP text forms: times, quoted lists, references, coordinates."""

from __future__ import annotations

import math
import re
from datetime import datetime

from lianbo.domain.alerting.model import Circle, Point, Reference

# CAP 1.2 dateTime: seconds precision and an explicit numeric offset; "Z" is
# not allowed (UTC is written "-00:00").
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[-+]\d{2}:\d{2}")
_QUOTED = re.compile(r'"([^"]*)"|(\S+)')


def parse_datetime(text: str) -> datetime:
    """Parse a CAP dateTime; raise ValueError when it is not one."""
    text = text.strip()
    if not _DATETIME.fullmatch(text):
        raise ValueError(f"not a CAP dateTime (YYYY-MM-DDThh:mm:ss±hh:mm): {text!r}")
    return datetime.fromisoformat(text)


def format_datetime(value: datetime) -> str:
    """Format an aware datetime as CAP writes it."""
    if value.utcoffset() is None:
        raise ValueError("a CAP time needs a UTC offset")
    return value.isoformat(timespec="seconds")


def split_quoted(text: str) -> tuple[str, ...]:
    """Split a space-delimited CAP list where values with spaces are quoted."""
    return tuple(
        m.group(1) if m.group(1) is not None else m.group(2) for m in _QUOTED.finditer(text)
    )


def join_quoted(items: tuple[str, ...]) -> str:
    """The inverse of :func:`split_quoted`."""
    return " ".join(
        f'"{item}"' if not item or any(c.isspace() for c in item) else item for item in items
    )


def parse_references(text: str) -> tuple[Reference, ...]:
    """Parse whitespace-separated ``sender,identifier,sent`` triplets."""
    refs = []
    for triplet in text.split():
        parts = triplet.split(",")
        if len(parts) != 3 or not parts[0] or not parts[1]:
            raise ValueError(f"a reference is sender,identifier,sent: {triplet!r}")
        refs.append(Reference(parts[0], parts[1], parse_datetime(parts[2])))
    return tuple(refs)


def format_references(refs: tuple[Reference, ...]) -> str:
    """The inverse of :func:`parse_references`."""
    return " ".join(f"{r.sender},{r.identifier},{format_datetime(r.sent)}" for r in refs)


def parse_point(text: str) -> Point:
    """Parse ``lat,lon``."""
    parts = text.split(",")
    if len(parts) != 2:
        raise ValueError(f"a point is lat,lon: {text!r}")
    return (float(parts[0]), float(parts[1]))


def parse_polygon(text: str) -> tuple[Point, ...]:
    """Parse a CAP polygon: space-separated ``lat,lon`` pairs."""
    pairs = text.split()
    for pair in pairs:
        if pair.count(",") != 1:
            raise ValueError(f"a point is lat,lon: {pair!r}")
    values = list(map(float, ",".join(pairs).split(",")))
    if not math.isfinite(sum(values)):
        raise ValueError("coordinates must be finite numbers")
    return tuple(zip(values[0::2], values[1::2], strict=True))


def format_polygon(points: tuple[Point, ...]) -> str:
    """The inverse of :func:`parse_polygon` (exact float round trip)."""
    return " ".join(f"{lat!r},{lon!r}" for lat, lon in points)


def parse_circle(text: str) -> Circle:
    """Parse a CAP circle: ``lat,lon radius_km``."""
    parts = text.split()
    if len(parts) != 2:
        raise ValueError(f"a circle is 'lat,lon radius_km': {text!r}")
    centre, radius = parts
    lat, lon = parse_point(centre)
    return Circle(lat, lon, float(radius))


def format_circle(circle: Circle) -> str:
    """The inverse of :func:`parse_circle`."""
    return f"{circle.lat!r},{circle.lon!r} {circle.radius_km!r}"
