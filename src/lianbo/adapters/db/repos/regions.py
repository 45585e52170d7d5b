"""Regions repository."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from lianbo.adapters.db.tables import RegionRow, TerminalRow
from lianbo.domain.regions import Region, level_of, subtree_range


def _region(row: RegionRow) -> Region:
    return Region(
        code=row.code,
        name=row.name,
        parent_code=row.parent_code,
        full_name=row.full_name,
        category=row.urban_rural,
    )


class RegionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, code: str) -> Region | None:
        row = await self.session.get(RegionRow, code)
        return _region(row) if row else None

    async def many(self, codes: Sequence[str]) -> dict[str, Region]:
        """The regions among ``codes`` that exist, by code (one query)."""
        rows = await self.session.scalars(select(RegionRow).where(RegionRow.code.in_(list(codes))))
        return {row.code: _region(row) for row in rows}

    async def codes(self) -> set[str]:
        return set((await self.session.scalars(select(RegionRow.code))).all())

    async def count(self) -> int:
        return int(await self.session.scalar(select(func.count()).select_from(RegionRow)) or 0)

    async def add_many(self, regions: Sequence[Region], *, builtin: bool) -> None:
        if not regions:
            return
        await self.session.execute(
            insert(RegionRow),
            [
                {
                    "code": r.code,
                    "name": r.name,
                    "parent_code": r.parent_code,
                    "level": level_of(r.code),
                    "full_name": r.full_name,
                    "builtin": builtin,
                    "urban_rural": r.category,
                }
                for r in regions
            ],
        )

    async def children(self, parent: str | None) -> list[Region]:
        query = select(RegionRow).order_by(RegionRow.code)
        if parent is None:
            query = query.where(RegionRow.parent_code.is_(None))
        else:
            query = query.where(RegionRow.parent_code == parent)
        return [_region(r) for r in (await self.session.scalars(query)).all()]

    async def search(
        self, *, within: str, query: str | None, limit: int, offset: int
    ) -> tuple[list[Region], int]:
        low, high = subtree_range(within)
        where = [RegionRow.code >= low, RegionRow.code < high]
        if query:
            like = f"%{query}%"
            where.append(RegionRow.full_name.like(like) | RegionRow.code.like(f"{query}%"))
        total = await self.session.scalar(select(func.count()).select_from(RegionRow).where(*where))
        rows = await self.session.scalars(
            select(RegionRow).where(*where).order_by(RegionRow.code).limit(limit).offset(offset)
        )
        return [_region(r) for r in rows.all()], int(total or 0)

    async def terminal_counts(self, within: str) -> dict[str, int]:
        """Live (not retired) terminals per region code in a subtree."""
        low, high = subtree_range(within)
        rows = await self.session.execute(
            select(TerminalRow.region_code, func.count())
            .where(
                TerminalRow.region_code >= low,
                TerminalRow.region_code < high,
                TerminalRow.status != "retired",
            )
            .group_by(TerminalRow.region_code)
        )
        return {code: int(n) for code, n in rows.all()}
