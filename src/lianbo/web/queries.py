"""Read-only aggregates the dashboard needs and no repository offers yet.

Kept to this one module so it can move into ``TerminalRepository`` (as
``centroids_by``) without touching the pages.
"""

from __future__ import annotations

from sqlalchemy import func, select

from lianbo.adapters.db.tables import TerminalRow
from lianbo.adapters.db.uow import UnitOfWork
from lianbo.domain.regions import subtree_range


async def centroids_by(
    uow: UnitOfWork, within: str, digits: int
) -> list[tuple[str, int, float, float]]:
    """(region prefix of ``digits``, live terminals, mean lat, mean lon) per group.

    One grouped scan over the subtree index: cheap even for 100k screens.
    """
    low, high = subtree_range(within)
    prefix = func.substr(TerminalRow.region_code, 1, digits)
    lat, lon = func.avg(TerminalRow.latitude), func.avg(TerminalRow.longitude)
    rows = await uow.session.execute(
        select(prefix, func.count(), lat, lon)
        .where(
            TerminalRow.region_code >= low,
            TerminalRow.region_code < high,
            TerminalRow.status != "retired",
        )
        .group_by(prefix)
    )
    return [(str(code), int(n), float(y), float(x)) for code, n, y, x in rows.all()]
