"""The latest status report of each terminal (one row per terminal)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from lianbo.adapters.db.tables import TerminalReportRow
from lianbo.domain.terminals import StatusReport


class ReportRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def save(self, reports: Sequence[tuple[str, datetime, dict[str, Any]]]) -> None:
        """Keep each terminal's newest ``(terminal_id, at, status)``.

        An upsert that never goes back in time: a screen that moved to
        another server process may have its older report flushed after a
        newer one, and two processes may write one screen's row at once (a
        delete-then-insert would fail on the key for one of them).
        """
        latest: dict[str, tuple[datetime, dict[str, Any]]] = {}
        for terminal_id, at, status in reports:
            if terminal_id not in latest or at >= latest[terminal_id][0]:
                latest[terminal_id] = (at, status)
        if not latest:
            return
        dialect = self.session.get_bind().dialect.name
        table = TerminalReportRow.metadata.tables["terminal_reports"]
        statement = (pg_insert if dialect == "postgresql" else sqlite_insert)(table)
        newer = statement.excluded.reported_at >= table.c.reported_at
        statement = statement.on_conflict_do_update(
            index_elements=["terminal_id"],
            set_={
                "reported_at": statement.excluded.reported_at,
                "status": statement.excluded.status,
            },
            where=newer,
        )
        rows = [{"terminal_id": t, "reported_at": a, "status": s} for t, (a, s) in latest.items()]
        await self.session.execute(statement, rows)

    async def latest(self, terminal_id: str) -> StatusReport | None:
        row = await self.session.get(TerminalReportRow, terminal_id)
        if row is None:
            return None
        return StatusReport(row.terminal_id, row.reported_at, dict(row.status))

    async def of(self, terminal_ids: Sequence[str]) -> dict[str, StatusReport]:
        rows = await self.session.scalars(
            select(TerminalReportRow).where(TerminalReportRow.terminal_id.in_(list(terminal_ids)))
        )
        return {
            r.terminal_id: StatusReport(r.terminal_id, r.reported_at, dict(r.status)) for r in rows
        }
