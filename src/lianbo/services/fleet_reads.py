"""How the fleet stands within a subtree: the dashboard's counts and map.

Every read is bounded by ``within`` (the viewer's jurisdiction), as the
dashboard passes it.
"""

from __future__ import annotations

from lianbo.adapters.db.uow import UnitOfWork


async def counts_by(uow: UnitOfWork, within: str) -> list[tuple[str, str, int]]:
    """(tier, status, count) over the subtree, retired excluded."""
    return await uow.terminals.counts_by(within)


async def positions(
    uow: UnitOfWork, within: str, limit: int
) -> list[tuple[str, str, str, str, float, float]]:
    """(id, name, tier, status, lat, lon) of the subtree's live terminals."""
    return await uow.terminals.positions(within, limit=limit)


async def centroids_by(
    uow: UnitOfWork, within: str, digits: int
) -> list[tuple[str, int, float, float]]:
    """(region prefix of ``digits``, live terminals, mean lat, mean lon) per group."""
    return await uow.terminals.centroids_by(within, digits)
