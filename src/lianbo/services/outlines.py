"""Region outlines: the shipped ones, those an admin loads, and what a map draws.

Truth is the store plus the package: an outline an admin loaded
(``region_outlines``) wins over the shipped one (``adapters/geo/outlines``).
Nothing here is cached between calls, so a load is seen by every process
at its next read; the shipped file is immutable package data.

:func:`outline` is the jurisdiction outline other code clips and checks
areas against (lon/lat shapely geometry, or None when no outline is known).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from shapely.geometry.base import BaseGeometry

from lianbo.adapters.geo.outline_file import OutlineFeature
from lianbo.adapters.geo.outlines import (
    display_tolerance,
    for_display,
    from_geojson,
    shipped_codes,
    shipped_for_display,
    shipped_outline,
)
from lianbo.domain.errors import Forbidden, InvalidInput
from lianbo.domain.ports import Clock
from lianbo.domain.regions import LEVEL_LENGTHS, level_of
from lianbo.domain.roles import Role
from lianbo.domain.users import Actor
from lianbo.services import audit
from lianbo.services.context import UnitOfWork

__all__ = [
    "MapOutline",
    "RegionOutlines",
    "display_tolerance",
    "for_display",
    "load_outlines",
    "map_outlines",
    "outline",
    "outlines",
    "shipped_for_display",
]

BATCH = 500  # outlines written per statement (and per progress step)
COUNTY = 3


async def outline(uow: UnitOfWork, code: str) -> BaseGeometry | None:
    """The outline of a short-form region code (lon/lat): loaded, else shipped."""
    if not code:
        return None
    loaded = await uow.outlines.get(code)
    return from_geojson(loaded) if loaded is not None else shipped_outline(code)


class RegionOutlines:
    """The jurisdiction outline alerts are warned against
    (``services.alert_outline.JurisdictionOutline``): loaded, else shipped."""

    async def outline(self, uow: UnitOfWork, code: str) -> BaseGeometry | None:
        return await outline(uow, code)


async def outlines(uow: UnitOfWork, codes: Sequence[str]) -> dict[str, BaseGeometry]:
    """Outlines of many codes (one query for the loaded ones); unknown left out."""
    return {code: shape for code, (shape, _) in (await _outlines(uow, codes)).items()}


async def _outlines(uow: UnitOfWork, codes: Sequence[str]) -> dict[str, tuple[BaseGeometry, bool]]:
    """(outline, shipped?) by code, the loaded ones first."""
    loaded = await uow.outlines.many(codes)
    found: dict[str, tuple[BaseGeometry, bool]] = {}
    for code in codes:
        geometry = from_geojson(loaded[code]) if code in loaded else shipped_outline(code)
        if geometry is not None and not geometry.is_empty:
            found[code] = (geometry, code not in loaded)
    return found


async def load_outlines(
    uow: UnitOfWork,
    clock: Clock,
    actor: Actor,
    features: Sequence[OutlineFeature],
    *,
    source: str,
    progress: Callable[[int], None] = lambda done: None,
) -> int:
    """Store an admin's outlines (one transaction, audited); returns how many.

    Every code must be a known region (townships and villages are imported
    first with ``lianbo regions import``); the first unknown one refuses all.
    """
    if actor.role is not Role.ADMIN:
        raise Forbidden("loading region outlines needs the admin role")
    if not features:
        raise InvalidInput("no outlines to load", field="file")
    when = clock.now()
    for start in range(0, len(features), BATCH):
        batch = features[start : start + BATCH]
        known = await uow.regions.many([f.code for f in batch])
        for n, feature in enumerate(batch, start + 1):
            if feature.code not in known:
                raise InvalidInput(f"feature {n}: unknown region code {feature.code}", field="file")
        await uow.outlines.put_many([(f.code, f.geometry) for f in batch], when, actor.username)
        progress(len(batch))
    codes = sorted(f.code for f in features)
    await audit.record(
        uow,
        clock,
        actor,
        "region.outlines.load",
        ("region_outlines", source[:100]),
        region=actor.jurisdiction,
        after={"count": len(codes), "first": codes[0], "last": codes[-1]},
    )
    await uow.commit()
    return len(codes)


@dataclass(frozen=True, slots=True)
class MapOutline:
    """One outline a map draws: ``home`` (the viewer's jurisdiction),
    ``part`` (a region inside it; the deepest ones are picked by a click)
    or ``context`` (a neighbour around it)."""

    code: str
    name: str
    role: str
    geometry: BaseGeometry
    pickable: bool = False
    shipped: bool = False  # the package's outline (an admin loaded none for it)


async def map_outlines(
    uow: UnitOfWork, jurisdiction: str, *, pick: bool = False
) -> list[MapOutline]:
    """What a map of ``jurisdiction`` draws: its outline, its neighbours and
    the regions inside it one level down — or, on a map regions are picked
    from (``pick``), down to counties (townships under a county when an
    admin loaded them). A nationwide map draws the provinces."""
    within = await _codes_within(uow, jurisdiction)
    below = level_of(jurisdiction) + 1 if jurisdiction else 1
    deepest = max(below, COUNTY) if pick and jurisdiction else below
    parts = [c for c in within if c != jurisdiction and level_of(c) <= deepest]
    pick_level = max((level_of(c) for c in parts), default=0) if pick else 0
    siblings = await _siblings(uow, jurisdiction) if jurisdiction else []
    roles = {c: "context" for c in siblings} | {c: "part" for c in parts}
    if jurisdiction:
        roles[jurisdiction] = "home"
    shapes = await _outlines(uow, list(roles))
    names = await uow.regions.many(list(shapes))
    drawn = [
        MapOutline(
            code,
            names[code].name if code in names else code,  # the map says where
            roles[code],
            shape,
            pickable=roles[code] == "part" and level_of(code) == pick_level,
            shipped=shipped,
        )
        for code, (shape, shipped) in shapes.items()
    ]
    order = {"context": 0, "part": 1, "home": 2}  # home drawn last, on top
    return sorted(drawn, key=lambda o: (order[o.role], -len(o.code), o.code))


async def _codes_within(uow: UnitOfWork, prefix: str) -> list[str]:
    shipped = {c for c in shipped_codes() if c.startswith(prefix)}
    return sorted(shipped | set(await uow.outlines.codes_within(prefix)))


async def _siblings(uow: UnitOfWork, code: str) -> list[str]:
    """Same-level regions under the same parent (the context around a map)."""
    above = [n for n in LEVEL_LENGTHS if n < len(code)]
    parent = code[: above[-1]] if above else ""
    return [c for c in await _codes_within(uow, parent) if len(c) == len(code) and c != code]
