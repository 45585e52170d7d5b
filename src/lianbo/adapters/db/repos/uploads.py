"""Resumable uploads in progress (tus 1.0)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from lianbo.adapters.db.tables import UploadRow


@dataclass(frozen=True, slots=True)
class UploadRecord:
    id: str
    owner_id: str
    region: str
    name: str
    length: int
    offset: int
    asset_id: str | None


class UploadRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, **values: Any) -> None:
        await self.session.execute(insert(UploadRow).values(**values))

    async def get(self, upload_id: str) -> UploadRecord | None:
        row = await self.session.get(UploadRow, upload_id)
        if row is None:
            return None
        return UploadRecord(
            row.id, row.owner_id, row.region_code, row.name, row.length, row.offset, row.asset_id
        )

    async def set_offset(self, upload_id: str, offset: int, asset_id: str | None = None) -> None:
        await self.session.execute(
            update(UploadRow)
            .where(UploadRow.id == upload_id)
            .values(offset=offset, asset_id=asset_id)
        )

    async def expired(self, now: datetime) -> list[str]:
        rows = await self.session.scalars(
            select(UploadRow.id).where(UploadRow.expires_at < now, UploadRow.asset_id.is_(None))
        )
        return list(rows.all())

    async def remove(self, upload_id: str) -> None:
        await self.session.execute(delete(UploadRow).where(UploadRow.id == upload_id))
