"""What the monitoring pages read: the wall, screens' facts, presence history.

Reads bounded by a subtree take ``within`` (the viewer's jurisdiction) from
the page, as the pages pass it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from lianbo.adapters.db.repos.monitoring import Transition
from lianbo.adapters.db.uow import UnitOfWork
from lianbo.domain.monitoring.records import ScreenFacts, Screenshot


async def wall(
    uow: UnitOfWork, within: str, region: str, tier: str | None, *, limit: int, offset: int
) -> tuple[list[tuple[ScreenFacts, Screenshot | None]], int]:
    """One page of live terminals of the subtree with their latest screenshot."""
    return await uow.monitoring.wall(within, region, tier, limit=limit, offset=offset)


async def screens(uow: UnitOfWork, ids: Sequence[str]) -> dict[str, ScreenFacts]:
    """terminal id → the facts monitoring labels it with."""
    return await uow.monitoring.screens(ids)


async def transitions(
    uow: UnitOfWork, within: str, region: str, tier: str | None, end: datetime
) -> list[Transition]:
    """Every presence transition before ``end`` in the subtree, per terminal in time order."""
    return await uow.monitoring.transitions(within, region, tier, end)
