"""Audit log repository: append under the head row's lock, read in order."""

from __future__ import annotations

from collections.abc import AsyncIterator

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from lianbo.adapters.db.tables import AuditHeadRow, AuditRow
from lianbo.domain.audit import GENESIS_HASH, AuditEntry, AuditQuery, seal


def _entry(row: AuditRow) -> AuditEntry:
    return AuditEntry(
        seq=row.seq,
        at=row.at,
        actor=row.actor,
        action=row.action,
        target_type=row.target_type,
        target_id=row.target_id,
        region=row.region,
        before=row.before,
        after=row.after,
        address=row.address,
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


class AuditRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def append(self, draft: AuditEntry) -> AuditEntry:
        """Link ``draft`` after the current head and store it.

        The head row is read FOR UPDATE (PostgreSQL) or under SQLite's single
        writer, so two appends can never link to the same predecessor.
        """
        head = await self.session.scalar(
            select(AuditHeadRow).where(AuditHeadRow.id == 1).with_for_update()
        )
        seq, prev = (head.seq, head.hash) if head else (0, GENESIS_HASH)
        entry = seal(
            AuditEntry(
                seq=seq + 1,
                at=draft.at,
                actor=draft.actor,
                action=draft.action,
                target_type=draft.target_type,
                target_id=draft.target_id,
                region=draft.region,
                before=draft.before,
                after=draft.after,
                address=draft.address,
                prev_hash=prev,
            )
        )
        await self.session.execute(
            insert(AuditRow).values(
                seq=entry.seq,
                at=entry.at,
                actor=entry.actor,
                action=entry.action,
                target_type=entry.target_type,
                target_id=entry.target_id,
                region=entry.region,
                before=entry.before,
                after=entry.after,
                address=entry.address,
                prev_hash=entry.prev_hash,
                hash=entry.hash,
            )
        )
        if head is None:
            await self.session.execute(
                insert(AuditHeadRow).values(id=1, seq=entry.seq, hash=entry.hash)
            )
        else:
            await self.session.execute(
                update(AuditHeadRow)
                .where(AuditHeadRow.id == 1)
                .values(seq=entry.seq, hash=entry.hash)
            )
        return entry

    async def head(self) -> tuple[int, str]:
        row = await self.session.scalar(select(AuditHeadRow).where(AuditHeadRow.id == 1))
        return (row.seq, row.hash) if row else (0, GENESIS_HASH)

    async def walk(self, batch: int = 2000) -> AsyncIterator[AuditEntry]:
        """Every entry in seq order, fetched in batches."""
        after = 0
        while True:
            rows = (
                await self.session.scalars(
                    select(AuditRow).where(AuditRow.seq > after).order_by(AuditRow.seq).limit(batch)
                )
            ).all()
            if not rows:
                return
            for row in rows:
                yield _entry(row)
            after = rows[-1].seq

    async def search(
        self, query: AuditQuery, *, limit: int, offset: int
    ) -> tuple[list[AuditEntry], int]:
        where = [AuditRow.region.startswith(query.within, autoescape=True)]
        if query.actor:
            where.append(AuditRow.actor == query.actor)
        if query.action:
            where.append(AuditRow.action.startswith(query.action, autoescape=True))
        if query.target_id:
            where.append(AuditRow.target_id == query.target_id)
        if query.since:
            where.append(AuditRow.at >= query.since)
        if query.until:
            where.append(AuditRow.at < query.until)
        total = await self.session.scalar(select(func.count()).select_from(AuditRow).where(*where))
        rows = await self.session.scalars(
            select(AuditRow).where(*where).order_by(AuditRow.seq.desc()).limit(limit).offset(offset)
        )
        return [_entry(r) for r in rows.all()], int(total or 0)
