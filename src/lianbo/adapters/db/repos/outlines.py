"""Admin-loaded region outlines (``region_outlines``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from lianbo.adapters.db.outline_tables import RegionOutlineRow
from lianbo.domain.regions import subtree_range


class OutlineRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, code: str) -> dict[str, Any] | None:
        """The GeoJSON geometry loaded for ``code``, or None."""
        return await self.session.scalar(
            select(RegionOutlineRow.geometry).where(RegionOutlineRow.code == code)
        )

    async def many(self, codes: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Loaded geometries among ``codes``, by code (one query)."""
        if not codes:
            return {}
        rows = await self.session.execute(
            select(RegionOutlineRow.code, RegionOutlineRow.geometry).where(
                RegionOutlineRow.code.in_(list(codes))
            )
        )
        return {code: geometry for code, geometry in rows.all()}

    async def codes_within(self, prefix: str) -> list[str]:
        """Codes with a loaded outline in a subtree (the whole tree for "")."""
        low, high = subtree_range(prefix)
        rows = await self.session.scalars(
            select(RegionOutlineRow.code)
            .where(RegionOutlineRow.code >= low, RegionOutlineRow.code < high)
            .order_by(RegionOutlineRow.code)
        )
        return list(rows.all())

    async def put_many(
        self, outlines: Sequence[tuple[str, dict[str, Any]]], when: datetime, by: str
    ) -> None:
        """Insert or replace outlines (delete then insert: portable upsert)."""
        codes = [code for code, _ in outlines]
        await self.session.execute(delete(RegionOutlineRow).where(RegionOutlineRow.code.in_(codes)))
        await self.session.execute(
            insert(RegionOutlineRow),
            [{"code": c, "geometry": g, "loaded_at": when, "loaded_by": by} for c, g in outlines],
        )
