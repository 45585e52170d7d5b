"""The composer's area: read it from the form, preview who it reaches.

The form carries the area three ways at once: region codes (ticked or
typed), polygons and circles drawn on the map (JSON in hidden fields, written
by ``static/alerts.js``). The preview runs the same server-side targeting the
alert service uses (``services.area_preview``) over the issuer's own screens,
the same jurisdiction check (a geocode outside is refused on send, so it is
refused while drawing) and the same warnings (a shape reaching past the
jurisdiction reaches only the issuer's screens inside it).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from shapely.geometry.base import BaseGeometry

from lianbo.domain.alerting.model import Area, Circle, Point
from lianbo.domain.alerting.reach import Reach
from lianbo.domain.alerting.rules import check_circle, check_polygon
from lianbo.domain.alerting.warnings import CapWarning
from lianbo.domain.errors import DomainError, InvalidInput
from lianbo.domain.regions import normalise_code
from lianbo.domain.terminals import Tier
from lianbo.domain.users import Actor
from lianbo.protocol import json_input
from lianbo.services import area_preview
from lianbo.services.area_preview import Screen, check_jurisdiction, shape_warnings
from lianbo.web import charts
from lianbo.web.forms import split_labels

MAX_SHAPES = 20
MAX_VERTICES = 200
MAP_WIDTH = 960.0
TIERS = tuple(t.value for t in Tier)
REGION_NAMED = re.compile(r"region (\S+) is outside")


@dataclass
class AreaForm:
    """The area as typed and drawn: raw values kept to refill the form."""

    regions: tuple[str, ...] = ()
    polygons: tuple[tuple[Point, ...], ...] = ()
    circles: tuple[Circle, ...] = ()
    raw_polygons: str = ""
    raw_circles: str = ""

    @property
    def empty(self) -> bool:
        """Nothing chosen yet."""
        return not (self.regions or self.polygons or self.circles)

    def area(self, description: str = "") -> Area:
        """The CAP area these choices make."""
        return Area(
            area_desc=description or "lianbo console",
            polygons=self.polygons,
            circles=self.circles,
            geocodes=tuple(("GB/T2260", code) for code in self.regions),
        )

    def as_json(self) -> dict[str, Any]:
        """The ``area`` object of the JSON API (DESIGN.md API sketch)."""
        return {
            "regions": list(self.regions),
            "polygons": [[list(point) for point in ring] for ring in self.polygons],
            "circles": [
                {"lat": c.lat, "lon": c.lon, "radius_km": c.radius_km} for c in self.circles
            ],
        }


def read_area(form: Mapping[str, Any], ticked: Sequence[str]) -> AreaForm:
    """The area fields of a posted form; InvalidInput naming the bad one."""
    typed = split_labels(str(form.get("region_codes", "")))
    regions: list[str] = []
    for raw in (*(t for t in ticked if t.strip()), *typed):
        code = normalise_code(raw, field="region_codes")
        if code not in regions:
            regions.append(code)
    raw_polygons = str(form.get("polygons", "")).strip()
    raw_circles = str(form.get("circles", "")).strip()
    return AreaForm(
        regions=tuple(regions),
        polygons=_polygons(raw_polygons),
        circles=_circles(raw_circles),
        raw_polygons=raw_polygons,
        raw_circles=raw_circles,
    )


def _json_list(raw: str, name: str) -> list[Any]:
    if not raw:
        return []
    try:
        value = json_input.loads(raw)
    except ValueError:
        raise InvalidInput(f"{name} is not valid JSON", field=name) from None
    if not isinstance(value, list) or len(value) > MAX_SHAPES:
        raise InvalidInput(f"{name} must be a list of at most {MAX_SHAPES}", field=name)
    return value


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(f"{name} has a coordinate that is not a number", field=name)
    return float(value)


def _polygons(raw: str) -> tuple[tuple[Point, ...], ...]:
    rings: list[tuple[Point, ...]] = []
    for n, ring in enumerate(_json_list(raw, "polygons"), 1):
        if not isinstance(ring, list) or not 3 <= len(ring) <= MAX_VERTICES:
            raise InvalidInput(f"polygon {n} needs 3 to {MAX_VERTICES} points", field="polygons")
        points: list[Point] = []
        for point in ring:
            if not isinstance(point, list) or len(point) != 2:
                raise InvalidInput(f"polygon {n}: a point is not [lat, lon]", field="polygons")
            points.append((_number(point[0], "polygons"), _number(point[1], "polygons")))
        if points[0] != points[-1]:
            points.append(points[0])  # CAP rings are closed; the map draws them open
        closed = tuple(points)
        _domain_check(check_polygon, f"polygon {n}", closed, "polygons")
        rings.append(closed)
    return tuple(rings)


def _circles(raw: str) -> tuple[Circle, ...]:
    found: list[Circle] = []
    for n, item in enumerate(_json_list(raw, "circles"), 1):
        if not isinstance(item, dict):
            raise InvalidInput(f"circle {n} is not an object", field="circles")
        circle = Circle(
            _number(item.get("lat"), "circles"),
            _number(item.get("lon"), "circles"),
            _number(item.get("radius_km"), "circles"),
        )
        if not 0 < circle.radius_km <= 500:
            raise InvalidInput(f"circle {n} radius must be 0-500 km", field="circles")
        _domain_check(check_circle, f"circle {n}", circle, "circles")
        found.append(circle)
    return tuple(found)


def _domain_check(check: Any, path: str, shape: object, name: str) -> None:
    """Run a CAP rule; its error (with an element path) names our field."""
    try:
        check(path, shape)
    except DomainError as problem:
        raise InvalidInput(problem.message, field=name) from None
    except ValueError as problem:  # CapError subclasses carry path + reason
        raise InvalidInput(str(problem), field=name) from None


@dataclass
class Preview:
    """Who the area reaches: counts by tier and by region and tier, the
    targeted screens, shapes reaching past the jurisdiction, a refusal."""

    by_tier: dict[str, int] = field(default_factory=dict)
    targeted: list[Screen] = field(default_factory=list)
    refused: DomainError | None = None
    reach: Reach = field(default_factory=Reach)
    warnings: list[CapWarning] = field(default_factory=list)

    @property
    def total(self) -> int:
        """Screens reached."""
        return len(self.targeted)


def preview(
    actor: Actor, form: AreaForm, screens: Sequence[Screen], outline: BaseGeometry | None
) -> Preview:
    """Targeted screens for the area (with a warning per shape reaching past
    ``outline``), or the refusal of a geocode outside the jurisdiction."""
    area = form.area()
    result = Preview(by_tier=dict.fromkeys(TIERS, 0))
    try:
        check_jurisdiction(actor, area)
    except DomainError as problem:
        result.refused = problem
        return result
    result.warnings = shape_warnings(actor, area, outline)
    if form.empty or not screens:
        return result
    found = area_preview.targeted(area, screens, actor.jurisdiction)
    result.targeted, result.reach = found.screens, found.reach
    result.by_tier = found.reach.by_tier()
    return result


def projection(screens: Sequence[Screen]) -> charts.Projection | None:
    """The map's projection over the jurisdiction's screens."""
    return charts.fit(((s.lat, s.lon) for s in screens), width=MAP_WIDTH)


def part_name(path: str | None, message: str = "") -> tuple[str, str]:
    """(kind, which) of an area part from an error path such as
    ``area/polygon[2]`` → ("polygon", "2"); a region is named by its code
    (``region 510105 is outside ...``); ("", "") when there is no part."""
    if not path:
        return "", ""
    last = path.rsplit("/", 1)[-1]
    kind, _, rest = last.partition("[")
    named = REGION_NAMED.match(message)
    if kind == "geocode" and named:
        return kind, named.group(1)
    return kind, rest.rstrip("]")
