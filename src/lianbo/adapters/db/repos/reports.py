"""The latest status report of each terminal (one row per terminal)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from lianbo.adapters.db.tables import TerminalReportRow
from lianbo.domain.terminals import StatusReport


class ReportRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def save(self, reports: Sequence[tuple[str, datetime, dict[str, Any]]]) -> None:
        """Replace the stored report of each ``(terminal_id, at, status)``
        (the last one wins when a terminal appears twice)."""
        latest = {terminal_id: (at, status) for terminal_id, at, status in reports}
        if not latest:
            return
        await self.session.execute(
            delete(TerminalReportRow).where(TerminalReportRow.terminal_id.in_(list(latest)))
        )
        await self.session.execute(
            insert(TerminalReportRow),
            [{"terminal_id": t, "reported_at": a, "status": s} for t, (a, s) in latest.items()],
        )

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
