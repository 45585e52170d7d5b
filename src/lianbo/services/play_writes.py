"""Play-log writes in group commits.

Every batch that arrives while a write transaction is running joins the
next one: one ``executemany`` for all their rows, one rollup upsert with
their sums merged, one commit. A request is answered only after the commit
that holds its rows, so "accepted" still means stored.

Why: SQLite has one writer at a time. Written one transaction per request,
the writer paid the per-transaction costs (begin, the rollup upsert, the
commit writing the same table and index pages to the WAL again, the
thread hand-offs of each statement) for every 500 rows; grouped, it pays
them once per group. A group is capped (``GROUP_ROWS_MAX``) so one
transaction stays short. If a group fails, its batches are written one by
one, so a bad batch fails only its own request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import structlog

from lianbo.adapters.db.repos.monitoring import Rollup
from lianbo.adapters.db.repos.playlog import PlayRecord
from lianbo.adapters.db.uow import UnitOfWork

__all__ = ["GROUP_ROWS_MAX", "PlayWrites", "merge_rollups"]

GROUP_ROWS_MAX = 20_000

log = structlog.get_logger()


def _future() -> asyncio.Future[None]:
    return asyncio.get_running_loop().create_future()


@dataclass(slots=True)
class _Batch:
    records: Sequence[PlayRecord]
    rollups: Sequence[Rollup]
    done: asyncio.Future[None] = field(default_factory=_future)


def merge_rollups(groups: Sequence[Sequence[Rollup]]) -> list[Rollup]:
    """One rollup per (hour, region, tier, asset key), plays and seconds summed, in key order
    (a fixed order of upserts: two writers on PostgreSQL cannot deadlock on it)."""
    totals: dict[tuple[datetime, str, str, str], list[float]] = {}
    for rollups in groups:
        for hour, region, tier, asset, plays, seconds in rollups:
            sums = totals.setdefault((hour, region, tier, asset), [0, 0.0])
            sums[0] += plays
            sums[1] += seconds
    return [(*key, int(plays), seconds) for key, (plays, seconds) in sorted(totals.items())]


class PlayWrites:
    """One per process: lines up play-log writes in group commits (module doc)."""

    def __init__(self, uows: Callable[[], UnitOfWork]) -> None:
        self._uows = uows
        self._waiting: list[_Batch] = []
        self._writer: asyncio.Task[None] | None = None
        self.groups = 0  # transactions written (for tests and metrics)

    async def write(self, records: Sequence[PlayRecord], rollups: Sequence[Rollup]) -> None:
        """Store ``records`` and add ``rollups``; return once committed (or raise)."""
        batch = _Batch(records, rollups)
        self._waiting.append(batch)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain())
        await batch.done  # a request that goes away leaves its rows in the group

    async def _drain(self) -> None:
        while self._waiting:
            group = self._take()
            try:
                await self._commit(group)
            except Exception as error:
                if len(group) == 1:
                    _settle(group[0], error)
                    continue
                log.warning("playlog.group_failed", batches=len(group), error=str(error))
                for batch in group:  # alone, so a bad batch fails only its own request
                    try:
                        await self._commit([batch])
                    except Exception as alone:
                        _settle(batch, alone)
                    else:
                        _settle(batch)
            else:
                for batch in group:
                    _settle(batch)

    def _take(self) -> list[_Batch]:
        group = [self._waiting.pop(0)]
        rows = len(group[0].records)
        while self._waiting and rows + len(self._waiting[0].records) <= GROUP_ROWS_MAX:
            group.append(self._waiting.pop(0))
            rows += len(group[-1].records)
        return group

    async def _commit(self, group: Sequence[_Batch]) -> None:
        records = [record for batch in group for record in batch.records]
        rollups = merge_rollups([batch.rollups for batch in group])
        async with self._uows() as uow:
            await uow.monitoring.add_plays(records)
            await uow.monitoring.add_rollups(rollups)
            await uow.commit()
        self.groups += 1


def _settle(batch: _Batch, error: Exception | None = None) -> None:
    if batch.done.done():  # its request went away
        return
    if error is not None:
        batch.done.set_exception(error)
    else:
        batch.done.set_result(None)
