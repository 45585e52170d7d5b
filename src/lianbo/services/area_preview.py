"""Which live screens an area reaches, read for the console's composer and maps.

The composer previews an alert's area with the same targeting
(``TerminalIndex``, kept to the issuer's own screens), the same jurisdiction
check and the same warnings the alert service gives on send
(``services.alerts``): a geocode refused on send is refused while drawing,
and a shape reaching past the jurisdiction is flagged while drawing. Pages
call these functions instead of reading the store themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from shapely.geometry.base import BaseGeometry

from lianbo.adapters.geo import TerminalIndex, area_warnings, check_area_jurisdiction
from lianbo.domain.alerting.model import Area
from lianbo.domain.alerting.reach import Reach
from lianbo.domain.alerting.warnings import CapWarning
from lianbo.domain.users import Actor
from lianbo.services.alert_outline import outline_of
from lianbo.services.context import Context, UnitOfWork

MAP_LIMIT = 20_000
# Enrolled screens: the ones alert targeting reaches (AlertRepository.screens).
SCREEN_STATUSES = ("online", "offline")


@dataclass(frozen=True, slots=True)
class Screen:
    """One live screen, as targeting and maps need it."""

    id: str
    name: str
    tier: str
    status: str
    region: str
    lat: float
    lon: float


async def screens_within(uow: UnitOfWork, within: str, limit: int = MAP_LIMIT) -> list[Screen]:
    """Live screens of a subtree with their region, for targeting and maps."""
    rows = await uow.terminals.screens(within, SCREEN_STATUSES, limit)
    return [Screen(*row) for row in rows]


async def jurisdiction_outline(
    container: Context, uow: UnitOfWork, actor: Actor
) -> BaseGeometry | None:
    """The outline the alert service warns shapes against: the region's
    boundary, else the hull of the jurisdiction's screens (``alert_outline``)."""
    return await outline_of(container.outlines, uow, actor.jurisdiction)


def check_jurisdiction(actor: Actor, area: Area) -> None:
    """Forbidden naming a geocode of ``area`` outside the issuer's jurisdiction."""
    check_area_jurisdiction("area", area, actor.jurisdiction)


def shape_warnings(actor: Actor, area: Area, outline: BaseGeometry | None) -> list[CapWarning]:
    """The shapes of ``area`` reaching past the jurisdiction's outline."""
    return area_warnings("area", area, actor.jurisdiction, outline)


@dataclass(frozen=True, slots=True)
class Targeted:
    """The screens an area reaches (in the order given) and their counts."""

    screens: list[Screen]
    reach: Reach


def targeted(area: Area, screens: Sequence[Screen], within: str) -> Targeted:
    """The screens of ``screens`` in jurisdiction ``within`` that ``area`` reaches."""
    index = TerminalIndex(
        [s.id for s in screens],
        [s.lat for s in screens],
        [s.lon for s in screens],
        [s.region for s in screens],
        [s.tier for s in screens],
    )
    selected = index.selected([area], within)
    mask = index.unsorted(selected)
    hit = [s for s, inside in zip(screens, mask, strict=True) if inside]
    return Targeted(hit, Reach.counted(index.counts(selected), within))
