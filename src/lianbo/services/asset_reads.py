"""What the console shows beside an asset: posters, QC stages, queue facts.

Read models for pages (``AssetPageReads`` in the store). ``find`` looks an
asset up by id without a permission check, as the pages always have, to
name an asset a page already reached through a checked use case (a playlist
item, a screen's "now showing", an alarm's expected frame).
"""

from __future__ import annotations

from collections.abc import Iterable

from lianbo.adapters.db.repos.asset_pages import QueueFacts
from lianbo.adapters.db.uow import UnitOfWork
from lianbo.domain.assets import Asset


async def posters(uow: UnitOfWork, asset_ids: Iterable[str]) -> dict[str, str]:
    """asset id → its poster's URL, for the assets that have one."""
    return await uow.asset_pages.posters(asset_ids)


async def qc_stages(uow: UnitOfWork, asset_ids: Iterable[str]) -> dict[str, str]:
    """asset id → the QC stage it is at, for assets still being checked."""
    return await uow.asset_pages.qc_stages(asset_ids)


async def queue_facts(
    uow: UnitOfWork, rounds: dict[str, int], viewer_id: str
) -> dict[str, QueueFacts]:
    """What the review queue shows per asset (its round, who voted)."""
    return await uow.asset_pages.queue_facts(rounds, viewer_id)


async def find(uow: UnitOfWork, asset_id: str) -> Asset | None:
    """The asset, or None (no permission check: see the module docstring)."""
    return await uow.assets.get(asset_id)
