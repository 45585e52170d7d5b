"""Which live screens an area reaches, read for the console's composer and maps.

The composer previews an alert's area with the same targeting
(``TerminalIndex``) and the same jurisdiction check the alert service runs on
send (``services.alerts``), so an area refused on send is refused while
drawing. Pages call these functions instead of reading the store themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from shapely.geometry.base import BaseGeometry

from lianbo.adapters.geo import TerminalIndex, check_area_jurisdiction
from lianbo.domain.alerting.model import Area
from lianbo.domain.users import Actor
from lianbo.services import alerts as alert_service
from lianbo.services.alert_targets import jurisdiction_shape
from lianbo.services.context import UnitOfWork

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


async def jurisdiction_outline(uow: UnitOfWork, actor: Actor) -> BaseGeometry | None:
    """The outline the alert service checks polygons and circles against:
    the hull of the jurisdiction's screens (``services.alerts``)."""
    screens = await uow.alerts.screens(actor.jurisdiction, alert_service.LIVE)
    return jurisdiction_shape(screens)


def check_jurisdiction(actor: Actor, area: Area, outline: BaseGeometry | None) -> None:
    """Forbidden naming the part of ``area`` outside the issuer's jurisdiction."""
    if actor.jurisdiction:  # a nationwide admin reaches everywhere
        check_area_jurisdiction("area", area, actor.jurisdiction, outline)


def targeted(area: Area, screens: Sequence[Screen]) -> list[Screen]:
    """The screens of ``screens`` that ``area`` reaches, in their order."""
    index = TerminalIndex(
        [s.id for s in screens],
        [s.lat for s in screens],
        [s.lon for s in screens],
        [s.region for s in screens],
    )
    mask = index.target_mask([area])
    return [s for s, hit in zip(screens, mask, strict=True) if hit]
