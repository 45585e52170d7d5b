"""Monitoring records: play logs and rollups, presence transitions, the
monitoring wall, and the content facts monitoring checks against
(screenshots and screen quads: ``repos/screenshots.py``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from lianbo.adapters.db.monitoring_tables import (
    PlayLogRow,
    PlayRollupRow,
    PresenceRow,
    ScreenshotRow,
)
from lianbo.adapters.db.repos import playlog
from lianbo.adapters.db.repos.playlog import PlayRecord
from lianbo.adapters.db.repos.screenshots import screenshot_of
from lianbo.adapters.db.tables import AssetRow, RenditionRow, TerminalRow
from lianbo.domain.monitoring.records import ScreenFacts, Screenshot
from lianbo.domain.regions import subtree_range

Rollup = tuple[datetime, str, str, str, int, float]  # hour, region, tier, asset key, plays, s
Transition = tuple[str, str, str, str, datetime]  # terminal, region, tier, state, at


@dataclass(frozen=True, slots=True)
class ContentFacts:
    """What we know of a sha256: the asset it belongs to, and if approved."""

    asset_id: str
    approved: bool


@dataclass(frozen=True, slots=True)
class TrackFacts:
    """An asset's pHash track and the runs that are black or still by design."""

    asset_id: str
    kind: str
    track: bytes
    duration_s: float | None
    black: tuple[tuple[float, float], ...]
    still: tuple[tuple[float, float], ...]


def _runs(qc: dict[str, Any] | None, name: str) -> tuple[tuple[float, float], ...]:
    segments = ((qc or {}).get("analysis") or {}).get(name) or ()
    return tuple(
        (float(s["start_s"]), float(s["end_s"]))
        for s in segments
        if isinstance(s, dict) and "start_s" in s and "end_s" in s
    )


def _within(column: Any, prefix: str) -> list[ColumnElement[bool]]:
    low, high = subtree_range(prefix)
    return [column >= low, column < high]


class MonitoringRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @property
    def _dialect(self) -> str:
        return self.session.get_bind().dialect.name

    # ------------------------------------------------------------ play logs

    async def add_plays(self, rows: Sequence[PlayRecord]) -> None:
        """Insert play-log rows (tuples in ``repos.playlog.COLUMNS`` order) in one statement."""
        await playlog.insert_plays(self.session, rows)

    async def add_rollups(self, rollups: Sequence[Rollup]) -> None:
        """Add plays and seconds to the hourly rollups (insert or accumulate)."""
        if not rollups:
            return
        make = pg_insert if self._dialect == "postgresql" else sqlite_insert
        table = PlayRollupRow.metadata.tables["play_rollups"]  # Core: no ORM bulk path per batch
        statement = make(table)
        statement = statement.on_conflict_do_update(
            index_elements=["hour", "region_code", "tier", "asset_key"],
            set_={
                "plays": table.c.plays + statement.excluded.plays,
                "seconds": table.c.seconds + statement.excluded.seconds,
            },
        )
        await self.session.execute(
            statement,
            [
                {"hour": h, "region_code": r, "tier": t, "asset_key": a, "plays": p, "seconds": s}
                for h, r, t, a, p, s in rollups
            ],
        )

    async def forget_plays(self, before: datetime) -> int:
        """Delete play-log rows that started before ``before``; how many."""
        return await playlog.forget_plays(self.session, before)

    async def play_count(self, terminal_id: str) -> int:
        return int(
            await self.session.scalar(
                select(func.count())
                .select_from(PlayLogRow)
                .where(PlayLogRow.terminal_id == terminal_id)
            )
            or 0
        )

    async def plays(
        self, start: datetime, end: datetime, within: str, region: str, by: str
    ) -> list[tuple[str, str, int, float]]:
        """(key, tier, plays, seconds) per asset or per region over ``[start, end)``."""
        key = PlayRollupRow.asset_key if by == "asset" else PlayRollupRow.region_code
        rows = await self.session.execute(
            select(
                key,
                PlayRollupRow.tier,
                func.sum(PlayRollupRow.plays),
                func.sum(PlayRollupRow.seconds),
            )
            .where(
                PlayRollupRow.hour >= start,
                PlayRollupRow.hour < end,
                *_within(PlayRollupRow.region_code, within),
                *_within(PlayRollupRow.region_code, region),
            )
            .group_by(key, PlayRollupRow.tier)
            .order_by(key, PlayRollupRow.tier)
        )
        return [(str(k), str(t), int(p or 0), float(s or 0)) for k, t, p, s in rows.all()]

    async def asset_names(self, ids: Sequence[str]) -> dict[str, str]:
        rows = await self.session.execute(
            select(AssetRow.id, AssetRow.name).where(AssetRow.id.in_(list(ids)))
        )
        return {i: n for i, n in rows.all()}

    # ------------------------------------------------------------- presence

    async def add_transitions(self, rows: Sequence[Transition]) -> None:
        if rows:
            await self.session.execute(
                insert(PresenceRow),
                [
                    {"terminal_id": t, "region_code": r, "tier": tier, "state": s, "at": at}
                    for t, r, tier, s, at in rows
                ],
            )

    async def transitions(
        self, within: str, region: str, tier: str | None, end: datetime
    ) -> list[Transition]:
        """Every transition before ``end`` in the subtree, per terminal in time order."""
        conditions = [
            PresenceRow.at < end,
            *_within(PresenceRow.region_code, within),
            *_within(PresenceRow.region_code, region),
        ]
        if tier:
            conditions.append(PresenceRow.tier == tier)
        rows = await self.session.execute(
            select(
                PresenceRow.terminal_id,
                PresenceRow.region_code,
                PresenceRow.tier,
                PresenceRow.state,
                PresenceRow.at,
            )
            .where(*conditions)
            .order_by(PresenceRow.terminal_id, PresenceRow.at, PresenceRow.id)
        )
        return [(t, r, tr, s, at) for t, r, tr, s, at in rows.all()]

    # -------------------------------------------------------- content facts

    async def content(self, sha256s: Sequence[str]) -> dict[str, ContentFacts]:
        """Which of ``sha256s`` we know (originals and renditions), and approved."""
        wanted = list(set(sha256s))
        if not wanted:
            return {}
        found: dict[str, ContentFacts] = {}
        for sha256, asset_id, state in await playlog.content_rows(self.session, wanted):
            approved = state == "approved"
            if sha256 is None:
                continue
            if sha256 not in found or (approved and not found[sha256].approved):
                found[sha256] = ContentFacts(asset_id, approved)
        return found

    async def files_of(self, asset_ids: Sequence[str]) -> dict[str, set[str]]:
        """Every sha256 (original and renditions) of each asset."""
        files: dict[str, set[str]] = {a: set() for a in asset_ids}
        rows = await self.session.execute(
            select(AssetRow.id, AssetRow.sha256).where(AssetRow.id.in_(list(asset_ids)))
        )
        for asset_id, sha256 in rows.all():
            if sha256:
                files[asset_id].add(sha256)
        derived = await self.session.execute(
            select(RenditionRow.asset_id, RenditionRow.sha256).where(
                RenditionRow.asset_id.in_(list(asset_ids))
            )
        )
        for asset_id, sha256 in derived.all():
            files[asset_id].add(sha256)
        return files

    async def track(self, asset_id: str) -> TrackFacts | None:
        row = await self.session.get(AssetRow, asset_id)
        if row is None:
            return None
        duration = (row.probe or {}).get("duration_s")
        return TrackFacts(
            row.id,
            row.kind,
            row.phash_track or b"",
            float(duration) if duration else None,
            _runs(row.qc, "black"),
            _runs(row.qc, "frozen"),
        )

    # ------------------------------------------------------------ terminals

    async def screens(self, ids: Sequence[str]) -> dict[str, ScreenFacts]:
        rows = await self.session.execute(
            select(
                TerminalRow.id,
                TerminalRow.name,
                TerminalRow.tier,
                TerminalRow.region_code,
                TerminalRow.status,
            ).where(TerminalRow.id.in_(list(ids)))
        )
        return {r[0]: ScreenFacts(*r) for r in rows.all()}

    async def wall(
        self, within: str, region: str, tier: str | None, *, limit: int, offset: int
    ) -> tuple[list[tuple[ScreenFacts, Screenshot | None]], int]:
        """Live terminals of the subtree with their latest screenshot (if any)."""
        conditions = [
            TerminalRow.status.in_(["online", "offline", "pending"]),
            *_within(TerminalRow.region_code, within),
            *_within(TerminalRow.region_code, region),
        ]
        if tier:
            conditions.append(TerminalRow.tier == tier)
        total = await self.session.scalar(
            select(func.count()).select_from(TerminalRow).where(*conditions)
        )
        rows = await self.session.execute(
            select(
                TerminalRow.id,
                TerminalRow.name,
                TerminalRow.tier,
                TerminalRow.region_code,
                TerminalRow.status,
                ScreenshotRow,
            )
            .outerjoin(ScreenshotRow, ScreenshotRow.terminal_id == TerminalRow.id)
            .where(*conditions)
            .order_by(TerminalRow.region_code, TerminalRow.name)
            .limit(limit)
            .offset(offset)
        )
        items: list[tuple[ScreenFacts, Screenshot | None]] = [
            (ScreenFacts(*r[:5]), screenshot_of(r[5]) if r[5] is not None else None)
            for r in rows.all()
        ]
        return items, int(total or 0)
