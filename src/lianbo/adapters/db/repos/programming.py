"""Playlists, schedules and built manifests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from lianbo.adapters.db.tables import ManifestRow, PlaylistItemRow, PlaylistRow, ScheduleRow
from lianbo.domain.playlists import Fit, Playlist, PlaylistItem
from lianbo.domain.regions import subtree_range
from lianbo.domain.schedules import (
    PriorityClass,
    Schedule,
    ScheduleState,
    Targets,
    parse_window,
)
from lianbo.domain.terminals import Tier


def targets_json(t: Targets) -> dict[str, Any]:
    return {
        "regions": list(t.regions),
        "tiers": [x.value for x in t.tiers],
        "groups": list(t.groups),
        "tags": list(t.tags),
    }


def _schedule(row: ScheduleRow) -> Schedule:
    t = row.targets
    window = (
        parse_window(row.daily_start, row.daily_end) if row.daily_start and row.daily_end else None
    )
    return Schedule(
        id=row.id,
        name=row.name,
        playlist_id=row.playlist_id,
        targets=Targets(
            tuple(t["regions"]),
            tuple(Tier(x) for x in t["tiers"]),
            tuple(t["groups"]),
            tuple(t["tags"]),
        ),
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        priority=PriorityClass(row.priority),
        timezone=row.timezone,
        rrule=row.rrule,
        daily_window=window,
        sync=row.sync,
        state=ScheduleState(row.state),
        published_at=row.published_at,
        region=row.region_code,
        owner=row.owner_id,
        created_at=row.created_at,
    )


# pg_advisory_xact_lock key for "rebuilding manifests" ("lianbo" in ASCII, 2).
MANIFEST_LOCK = 0x6C69616E626F_0002


@dataclass(frozen=True, slots=True)
class SignedManifest:
    version: str
    body: str  # canonical JSON, exactly the signed bytes
    signature: str
    key_id: str


class ProgrammingRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # playlists -----------------------------------------------------------
    async def add_playlist(self, playlist: Playlist, now: datetime) -> None:
        self.session.add(
            PlaylistRow(
                id=playlist.id,
                name=playlist.name,
                region_code=playlist.region,
                owner_id=playlist.owner,
                created_at=now,
                updated_at=now,
            )
        )
        await self.session.flush()
        await self._put_items(playlist)

    async def replace_playlist(self, playlist: Playlist, now: datetime) -> None:
        await self.session.execute(
            update(PlaylistRow)
            .where(PlaylistRow.id == playlist.id)
            .values(name=playlist.name, updated_at=now)
        )
        await self.session.execute(
            delete(PlaylistItemRow).where(PlaylistItemRow.playlist_id == playlist.id)
        )
        await self._put_items(playlist)

    async def _put_items(self, playlist: Playlist) -> None:
        await self.session.execute(
            insert(PlaylistItemRow),
            [
                {
                    "playlist_id": playlist.id,
                    "position": i,
                    "asset_id": item.asset_id,
                    "duration_ms": item.duration_ms,
                    "fit": item.fit.value,
                }
                for i, item in enumerate(playlist.items)
            ],
        )

    async def playlist(self, playlist_id: str) -> Playlist | None:
        row = await self.session.get(PlaylistRow, playlist_id)
        if row is None:
            return None
        return (await self._with_items([row]))[0]

    async def playlists(self, *, within: str, limit: int, offset: int) -> list[Playlist]:
        low, high = subtree_range(within)
        rows = (
            await self.session.scalars(
                select(PlaylistRow)
                .where(PlaylistRow.region_code >= low, PlaylistRow.region_code < high)
                .order_by(PlaylistRow.created_at.desc())
                .limit(limit)
                .offset(offset)
            )
        ).all()
        return await self._with_items(list(rows))

    async def all_playlists(self, ids: set[str]) -> dict[str, Playlist]:
        if not ids:
            return {}
        rows = (
            await self.session.scalars(select(PlaylistRow).where(PlaylistRow.id.in_(ids)))
        ).all()
        return {p.id: p for p in await self._with_items(list(rows))}

    async def _with_items(self, rows: list[PlaylistRow]) -> list[Playlist]:
        items: dict[str, list[PlaylistItem]] = {r.id: [] for r in rows}
        if rows:
            found = await self.session.scalars(
                select(PlaylistItemRow)
                .where(PlaylistItemRow.playlist_id.in_(list(items)))
                .order_by(PlaylistItemRow.playlist_id, PlaylistItemRow.position)
            )
            for item in found.all():
                items[item.playlist_id].append(
                    PlaylistItem(item.asset_id, item.duration_ms, Fit(item.fit))
                )
        return [Playlist(r.id, r.name, tuple(items[r.id]), r.region_code, r.owner_id) for r in rows]

    async def playlists_with_asset(self, asset_id: str) -> set[str]:
        rows = await self.session.scalars(
            select(PlaylistItemRow.playlist_id)
            .where(PlaylistItemRow.asset_id == asset_id)
            .distinct()
        )
        return set(rows.all())

    # schedules -----------------------------------------------------------
    async def add_schedule(self, s: Schedule) -> None:
        self.session.add(
            ScheduleRow(
                id=s.id,
                name=s.name,
                playlist_id=s.playlist_id,
                region_code=s.region,
                owner_id=s.owner,
                targets=targets_json(s.targets),
                starts_at=s.starts_at,
                ends_at=s.ends_at,
                timezone=s.timezone,
                rrule=s.rrule,
                daily_start=s.daily_window.start.strftime("%H:%M") if s.daily_window else None,
                daily_end=s.daily_window.end.strftime("%H:%M") if s.daily_window else None,
                priority=s.priority.value,
                sync=s.sync,
                state=s.state.value,
                published_at=s.published_at,
                created_at=s.created_at,
            )
        )
        await self.session.flush()

    async def schedule(self, schedule_id: str) -> Schedule | None:
        row = await self.session.get(ScheduleRow, schedule_id)
        return _schedule(row) if row else None

    async def set_schedule_state(
        self, schedule_id: str, state: ScheduleState, published_at: datetime | None
    ) -> None:
        await self.session.execute(
            update(ScheduleRow)
            .where(ScheduleRow.id == schedule_id)
            .values(state=state.value, published_at=published_at)
        )

    async def schedules(
        self,
        *,
        within: str,
        states: list[ScheduleState] | None,
        since: datetime | None,
        until: datetime | None,
        limit: int,
        offset: int,
    ) -> list[Schedule]:
        low, high = subtree_range(within)
        where = [ScheduleRow.region_code >= low, ScheduleRow.region_code < high]
        if states:
            where.append(ScheduleRow.state.in_([s.value for s in states]))
        if since is not None:
            where.append(ScheduleRow.ends_at > since)
        if until is not None:
            where.append(ScheduleRow.starts_at < until)
        rows = await self.session.scalars(
            select(ScheduleRow)
            .where(*where)
            .order_by(ScheduleRow.starts_at)
            .limit(limit)
            .offset(offset)
        )
        return [_schedule(r) for r in rows.all()]

    async def live_schedules(self, now: datetime) -> list[Schedule]:
        """Published schedules that have not ended: what manifests are built from."""
        rows = await self.session.scalars(
            select(ScheduleRow).where(
                ScheduleRow.state == ScheduleState.PUBLISHED.value, ScheduleRow.ends_at > now
            )
        )
        return [_schedule(r) for r in rows.all()]

    async def schedules_using(self, playlist_ids: set[str]) -> list[Schedule]:
        if not playlist_ids:
            return []
        rows = await self.session.scalars(
            select(ScheduleRow).where(ScheduleRow.playlist_id.in_(playlist_ids))
        )
        return [_schedule(r) for r in rows.all()]

    # manifests -----------------------------------------------------------
    async def lock_manifests(self) -> None:
        """Hold the manifest rebuild lock until this transaction ends
        (PostgreSQL): processes rebuilding the same audiences at once (a
        first fetch on two processes, a publish beside the hourly roll) take
        turns, and the later one reads what the earlier one wrote, instead of
        both inserting one audience's row (a key error). SQLite has one
        writer at a time."""
        if self.session.get_bind().dialect.name == "postgresql":
            await self.session.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": MANIFEST_LOCK}
            )

    async def put_manifests(self, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        keys = [r["audience_key"] for r in rows]
        for start in range(0, len(keys), 500):
            await self.session.execute(
                delete(ManifestRow).where(ManifestRow.audience_key.in_(keys[start : start + 500]))
            )
        await self.session.execute(insert(ManifestRow), rows)

    async def manifest(self, audience_key: str) -> SignedManifest | None:
        row = await self.session.get(ManifestRow, audience_key)
        if row is None:
            return None
        return SignedManifest(row.version, row.body, row.signature, row.key_id)

    async def manifest_version(self, audience_key: str) -> str | None:
        return await self.session.scalar(
            select(ManifestRow.version).where(ManifestRow.audience_key == audience_key)
        )
