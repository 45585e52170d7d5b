"""What was in force when: manifest versions with their spans, and the
server's runs (alive stamps, outages). See ADR 0006."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from lianbo.adapters.db.monitoring_tables import ManifestHistoryRow, ServerRunRow
from lianbo.adapters.db.tables import ManifestRow, TerminalRow

PAGE = 500  # keys per IN (...) list


@dataclass(frozen=True, slots=True)
class Head:
    """An audience's stored manifest as a rebuild needs it: its version and
    since when it is in force."""

    version: str
    in_force_from: datetime


@dataclass(frozen=True, slots=True)
class Version:
    """A superseded manifest version and the span it was in force."""

    version: str
    in_force_from: datetime
    in_force_until: datetime
    body: str  # the part in force then (``domain.monitoring.history.in_force_part``)


class HistoryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # manifests -----------------------------------------------------------
    async def heads(self, keys: set[str]) -> dict[str, Head]:
        """The stored manifests of ``keys`` (an old row without ``in_force_from``
        counts from when it was built)."""
        found: dict[str, Head] = {}
        ordered = sorted(keys)
        for start in range(0, len(ordered), PAGE):
            rows = await self.session.execute(
                select(
                    ManifestRow.audience_key,
                    ManifestRow.version,
                    ManifestRow.in_force_from,
                    ManifestRow.built_at,
                ).where(ManifestRow.audience_key.in_(ordered[start : start + PAGE]))
            )
            for key, version, since, built_at in rows.all():
                found[key] = Head(version, since or built_at)
        return found

    async def bodies(self, keys: set[str]) -> dict[str, str]:
        """The stored manifest bodies of ``keys`` (the ones a rebuild supersedes)."""
        found: dict[str, str] = {}
        ordered = sorted(keys)
        for start in range(0, len(ordered), PAGE):
            rows = await self.session.execute(
                select(ManifestRow.audience_key, ManifestRow.body).where(
                    ManifestRow.audience_key.in_(ordered[start : start + PAGE])
                )
            )
            found.update({key: body for key, body in rows.all()})
        return found

    async def in_force_from(self, audience_key: str) -> datetime | None:
        """Since when the audience's current manifest is in force (None: none)."""
        row = (
            await self.session.execute(
                select(ManifestRow.in_force_from, ManifestRow.built_at).where(
                    ManifestRow.audience_key == audience_key
                )
            )
        ).first()
        return None if row is None else (row[0] or row[1])

    async def keep(self, rows: Sequence[tuple[str, str, datetime, datetime, str]]) -> None:
        """Store superseded versions: (audience key, version, from, until, body)."""
        if rows:
            await self.session.execute(
                insert(ManifestHistoryRow),
                [
                    {
                        "audience_key": key,
                        "version": version,
                        "in_force_from": since,
                        "in_force_until": until,
                        "body": body,
                    }
                    for key, version, since, until, body in rows
                ],
            )

    async def versions(self, audience_key: str, start: datetime, end: datetime) -> list[Version]:
        """Superseded versions of an audience in force at some time in
        ``[start, end)``, earliest first."""
        rows = await self.session.execute(
            select(
                ManifestHistoryRow.version,
                ManifestHistoryRow.in_force_from,
                ManifestHistoryRow.in_force_until,
                ManifestHistoryRow.body,
            )
            .where(
                ManifestHistoryRow.audience_key == audience_key,
                ManifestHistoryRow.in_force_until > start,
                ManifestHistoryRow.in_force_from < end,
            )
            .order_by(ManifestHistoryRow.in_force_from, ManifestHistoryRow.id)
        )
        return [Version(v, a, b, body) for v, a, b, body in rows.all()]

    async def forget_versions(self, before: datetime) -> int:
        """Delete versions no longer in force after ``before``; how many."""
        result = await self.session.execute(
            delete(ManifestHistoryRow).where(ManifestHistoryRow.in_force_until < before)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    # server runs ---------------------------------------------------------
    async def last_alive(self) -> datetime | None:
        """The newest alive stamp of any run."""
        found: datetime | None = await self.session.scalar(select(func.max(ServerRunRow.alive_at)))
        return found

    async def start_run(
        self, run_id: str, process: str, ready: datetime, previous: datetime | None
    ) -> None:
        await self.session.execute(
            insert(ServerRunRow).values(
                id=run_id,
                process=process[:200],
                started_at=ready,
                alive_at=ready,
                previous_alive_at=previous,
            )
        )

    async def stamp_alive(self, run_id: str, at: datetime) -> None:
        await self.session.execute(
            update(ServerRunRow).where(ServerRunRow.id == run_id).values(alive_at=at)
        )

    async def provinces_with_screens(self) -> list[str]:
        """The province codes (two digits) of every terminal in service."""
        rows = await self.session.scalars(
            select(func.substr(TerminalRow.region_code, 1, 2))
            .where(TerminalRow.status != "retired")
            .distinct()
        )
        return sorted(str(code) for code in rows.all() if code)

    async def forget_runs(self, before: datetime) -> int:
        """Delete runs last alive before ``before`` (never the newest one)."""
        newest = await self.last_alive()
        if newest is None:
            return 0
        result = await self.session.execute(
            delete(ServerRunRow).where(
                ServerRunRow.alive_at < before, ServerRunRow.alive_at < newest
            )
        )
        return int(getattr(result, "rowcount", 0) or 0)
