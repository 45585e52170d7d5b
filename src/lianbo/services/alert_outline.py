"""The jurisdiction's outline: what says a drawn shape reaches past it.

Polygons and circles are geography (docs/alerts.md, "Areas"): they reach
the issuer's own screens inside them, and the part beyond the jurisdiction
reaches none. Saying so (a warning on the alert, and in the composer while
drawing) needs the jurisdiction's outline. Outlines come through a port,
``JurisdictionOutline`` (``container.outlines``; the composition root picks
the implementation: shipped region boundaries, or none). Where it knows no
outline, the convex hull of the jurisdiction's live screens stands in: the
best guess without a boundary (it may call a shape "partly outside" that
only reaches beyond the screens). The outline decides warnings only, never
who is targeted: targeting keeps to the screens whose region is in the
jurisdiction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import shapely
from shapely.geometry.base import BaseGeometry

from lianbo.adapters.db.repos.alerts import Screen
from lianbo.adapters.db.uow import UnitOfWork
from lianbo.domain.regions import normalise_code

# Screens an issuer owns for the hull: enrolled or waiting to be.
LIVE = ("pending", "online", "offline")


class JurisdictionOutline(Protocol):
    """Region boundaries by code (short form), x = lon, y = lat: the shipped
    and admin-loaded ones (``services.outlines.RegionOutlines``)."""

    async def outline(self, uow: UnitOfWork, code: str) -> BaseGeometry | None:
        """The region's outline, or None when it is not known."""
        ...


def jurisdiction_shape(screens: Sequence[Screen]) -> BaseGeometry | None:
    """The convex hull of the jurisdiction's screens (x = lon, y = lat)."""
    if not screens:
        return None
    return shapely.convex_hull(shapely.multipoints([(s.lon, s.lat) for s in screens]))


async def outline_of(
    outlines: JurisdictionOutline, uow: UnitOfWork, jurisdiction: str
) -> BaseGeometry | None:
    """The outline shapes are warned against: the region's boundary when
    known, else the hull of its live screens; None for a nationwide
    jurisdiction (nothing lies outside it) or one without screens."""
    if not jurisdiction:
        return None
    known = await outlines.outline(uow, normalise_code(jurisdiction, field="jurisdiction"))
    if known is not None:
        return known
    return jurisdiction_shape(await uow.alerts.screens(jurisdiction, LIVE))
