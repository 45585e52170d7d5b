"""Each terminal's latest screenshot and its monitoring camera's screen quad."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from lianbo.adapters.db.monitoring_tables import ScreenQuadRow, ScreenshotRow
from lianbo.domain.monitoring.records import Screenshot


def screenshot_of(row: ScreenshotRow) -> Screenshot:
    """A stored screenshot row as the record."""
    return Screenshot(
        row.terminal_id,
        row.sha256,
        row.media_type,
        row.taken_at,
        row.received_at,
        row.source,
        row.verdict,
        row.distance,
        int(row.phash, 16),
        dict(row.expected) if row.expected is not None else None,
    )


class ScreenshotRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @property
    def _dialect(self) -> str:
        return self.session.get_bind().dialect.name

    async def put_screenshot(self, shot: Screenshot) -> None:
        """Replace the terminal's latest screenshot (one upsert)."""
        await self.put_screenshots([shot])

    async def put_screenshots(self, shots: Sequence[Screenshot]) -> None:
        """Replace each terminal's latest screenshot (one upsert of all; one
        shot per terminal: a batch must not update a row twice)."""
        rows = [
            {
                "terminal_id": shot.terminal_id,
                "sha256": shot.sha256,
                "media_type": shot.media_type,
                "taken_at": shot.taken_at,
                "received_at": shot.received_at,
                "source": shot.source,
                "verdict": shot.verdict,
                "distance": shot.distance,
                "phash": f"{shot.phash:016x}",
                "expected": shot.expected,
            }
            for shot in shots
        ]
        if not rows:
            return
        make = pg_insert if self._dialect == "postgresql" else sqlite_insert
        statement = make(ScreenshotRow)
        changed = {k: statement.excluded[k] for k in rows[0] if k != "terminal_id"}
        await self.session.execute(
            statement.on_conflict_do_update(index_elements=["terminal_id"], set_=changed), rows
        )

    async def screenshot(self, terminal_id: str) -> Screenshot | None:
        row = await self.session.get(ScreenshotRow, terminal_id)
        return screenshot_of(row) if row else None

    async def screen_quad(self, terminal_id: str) -> list[list[float]] | None:
        """Where the terminal's monitoring camera sees its screen (None: not set)."""
        row = await self.session.get(ScreenQuadRow, terminal_id)
        return [list(point) for point in row.quad] if row else None

    async def set_screen_quad(
        self, terminal_id: str, quad: Sequence[Sequence[float]], at: datetime
    ) -> None:
        await self.session.merge(
            ScreenQuadRow(terminal_id=terminal_id, quad=[list(p) for p in quad], updated_at=at)
        )

    async def delete_screen_quad(self, terminal_id: str) -> None:
        row = await self.session.get(ScreenQuadRow, terminal_id)
        if row is not None:
            await self.session.delete(row)
