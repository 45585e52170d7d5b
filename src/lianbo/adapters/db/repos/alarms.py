"""Alarms as stored: one row per alarm, its lifecycle and evidence."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from lianbo.adapters.db.monitoring_tables import AlarmRow
from lianbo.domain.monitoring.alarms import AlarmFilter
from lianbo.domain.regions import subtree_range


@dataclass(frozen=True, slots=True)
class StoredAlarm:
    """An alarm row (see DESIGN.md ``/api/v1/alarms``)."""

    id: str
    type: str
    severity: str
    terminal_id: str
    region: str
    tier: str
    state: str
    opened_at: datetime
    evidence: dict[str, Any]
    count: int
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    resolved_at: datetime | None = None
    resolved_by: str | None = None

    def facts(self) -> dict[str, object]:
        """What an audit entry records before/after."""
        return {"type": self.type, "state": self.state, "terminal_id": self.terminal_id}


def _alarm(row: AlarmRow) -> StoredAlarm:
    return StoredAlarm(
        id=row.id,
        type=row.type,
        severity=row.severity,
        terminal_id=row.terminal_id,
        region=row.region_code,
        tier=row.tier,
        state=row.state,
        opened_at=row.opened_at,
        evidence=dict(row.evidence or {}),
        count=row.count,
        acknowledged_at=row.acknowledged_at,
        acknowledged_by=row.acknowledged_by,
        resolved_at=row.resolved_at,
        resolved_by=row.resolved_by,
    )


class AlarmRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, alarm: StoredAlarm) -> bool:
        """Store a new alarm; False (nothing stored) when the terminal already
        has a live alarm of its type: the unique index ``ux_alarms_live``
        (migration 0008) decides between processes opening it at once."""
        values = {
            "id": alarm.id,
            "type": alarm.type,
            "severity": alarm.severity,
            "terminal_id": alarm.terminal_id,
            "region_code": alarm.region,
            "tier": alarm.tier,
            "state": alarm.state,
            "opened_at": alarm.opened_at,
            "evidence": alarm.evidence,
            "count": alarm.count,
        }
        insert = (
            pg_insert if self.session.get_bind().dialect.name == "postgresql" else sqlite_insert
        )
        statement = insert(AlarmRow).values(values).on_conflict_do_nothing().returning(AlarmRow.id)
        return (await self.session.scalar(statement)) is not None

    async def get(self, alarm_id: str) -> StoredAlarm | None:
        row = await self.session.get(AlarmRow, alarm_id)
        return _alarm(row) if row else None

    async def live(self) -> list[StoredAlarm]:
        """Every alarm not yet resolved (to rebuild the in-memory book)."""
        rows = await self.session.scalars(select(AlarmRow).where(AlarmRow.state != "resolved"))
        return [_alarm(r) for r in rows.all()]

    async def live_for(self, terminal_id: str, kind: str) -> StoredAlarm | None:
        row = await self.session.scalar(
            select(AlarmRow).where(
                AlarmRow.terminal_id == terminal_id,
                AlarmRow.type == kind,
                AlarmRow.state != "resolved",
            )
        )
        return _alarm(row) if row else None

    async def live_of(self, terminal_ids: Sequence[str], kind: str) -> list[StoredAlarm]:
        """The live alarms of ``kind`` on these terminals."""
        rows = await self.session.scalars(
            select(AlarmRow).where(
                AlarmRow.terminal_id.in_(list(terminal_ids)),
                AlarmRow.type == kind,
                AlarmRow.state != "resolved",
            )
        )
        return [_alarm(r) for r in rows.all()]

    async def resolve_live(self, alarm_id: str, at: datetime, by: str) -> bool:
        """Resolve the alarm unless it is resolved already (by another
        process, or by hand); whether this call resolved it."""
        result = await self.session.execute(
            update(AlarmRow)
            .where(AlarmRow.id == alarm_id, AlarmRow.state != "resolved")
            .values(state="resolved", resolved_at=at, resolved_by=by)
        )
        return bool(getattr(result, "rowcount", 0))

    async def set(self, alarm_id: str, **values: Any) -> None:
        await self.session.execute(update(AlarmRow).where(AlarmRow.id == alarm_id).values(**values))

    async def bump(self, counts: Mapping[str, int]) -> None:
        """Add ``n`` sightings to each alarm id (deduplicated observations)."""
        for alarm_id, n in counts.items():
            await self.session.execute(
                update(AlarmRow).where(AlarmRow.id == alarm_id).values(count=AlarmRow.count + n)
            )

    def _conditions(self, where: AlarmFilter) -> list[ColumnElement[bool]]:
        low, high = subtree_range(where.within)
        found = [AlarmRow.region_code >= low, AlarmRow.region_code < high]
        if where.region:
            low, high = subtree_range(where.region)
            found += [AlarmRow.region_code >= low, AlarmRow.region_code < high]
        if where.state:
            found.append(AlarmRow.state == where.state)
        if where.type:
            found.append(AlarmRow.type == where.type)
        if where.terminal_id:
            found.append(AlarmRow.terminal_id == where.terminal_id)
        return found

    async def search(
        self, where: AlarmFilter, *, limit: int, offset: int
    ) -> tuple[list[StoredAlarm], int]:
        """Newest first, inside ``where.within``."""
        conditions = self._conditions(where)
        total = await self.session.scalar(
            select(func.count()).select_from(AlarmRow).where(*conditions)
        )
        rows = await self.session.scalars(
            select(AlarmRow)
            .where(*conditions)
            .order_by(AlarmRow.opened_at.desc(), AlarmRow.id)
            .limit(limit)
            .offset(offset)
        )
        return [_alarm(r) for r in rows.all()], int(total or 0)

    async def open_counts(self) -> list[tuple[str, str, int]]:
        """(type, severity, count) of alarms not yet resolved."""
        rows = await self.session.execute(
            select(AlarmRow.type, AlarmRow.severity, func.count())
            .where(AlarmRow.state != "resolved")
            .group_by(AlarmRow.type, AlarmRow.severity)
        )
        return [(t, s, int(n)) for t, s, n in rows.all()]
