"""Terminals repository, including labels and enrolment codes; the writes
from heartbeats are in ``terminal_presence.py``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, insert, select, update
from sqlalchemy.sql import ColumnElement

from lianbo.adapters.db.repos.terminal_presence import TerminalPresenceWrites
from lianbo.adapters.db.tables import EnrolmentCodeRow, TerminalRow
from lianbo.domain.regions import LEVEL_LENGTHS, subtree_range
from lianbo.domain.targeting import Audience
from lianbo.domain.terminals import (
    LIVE_STATUSES,
    Terminal,
    TerminalFilter,
    TerminalStatus,
    Tier,
)

TAG = "tag"
GROUP = "group"

# (id, name, tier, status, region, lat, lon) of a located terminal
Located = tuple[str, str, str, str, str, float, float]


def encode_labels(tags: Sequence[str], groups: Sequence[str]) -> str:
    """``" tag:a tag:b group:x "``: space-delimited so LIKE '% tag:a %' is exact."""
    words = [f"{TAG}:{t}" for t in tags] + [f"{GROUP}:{g}" for g in groups]
    return " " + " ".join(words) + " " if words else " "


def decode_labels(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    tags: list[str] = []
    groups: list[str] = []
    for word in text.split():
        kind, _, value = word.partition(":")
        (tags if kind == TAG else groups).append(value)
    return tuple(tags), tuple(groups)


def _terminal(row: TerminalRow) -> Terminal:
    tags, groups = decode_labels(row.labels)
    return Terminal(
        id=row.id,
        name=row.name,
        tier=Tier(row.tier),
        region=row.region_code,
        latitude=row.latitude,
        longitude=row.longitude,
        status=TerminalStatus(row.status),
        tags=tags,
        groups=groups,
        created_at=row.created_at,
        updated_at=row.updated_at,
        enrolled_at=row.enrolled_at,
        last_seen_at=row.last_seen_at,
        retired_at=row.retired_at,
    )


def _row_values(t: Terminal) -> dict[str, Any]:
    return {
        "id": t.id,
        "name": t.name,
        "tier": t.tier.value,
        "region_code": t.region,
        "latitude": t.latitude,
        "longitude": t.longitude,
        "status": t.status.value,
        "labels": encode_labels(t.tags, t.groups),
        "audience_key": Audience.of(t).key(),
        "created_at": t.created_at,
        "updated_at": t.updated_at,
        "enrolled_at": t.enrolled_at,
        "last_seen_at": t.last_seen_at,
        "retired_at": t.retired_at,
    }


class TerminalRepository(TerminalPresenceWrites):
    async def centroids_by(self, within: str, digits: int) -> list[tuple[str, int, float, float]]:
        """(region prefix of ``digits``, live terminals, mean lat, mean lon) per
        group of ``within``'s subtree: one grouped scan over the subtree index,
        cheap even for 100k screens (the dashboard map)."""
        low, high = subtree_range(within)
        prefix = func.substr(TerminalRow.region_code, 1, digits)
        lat, lon = func.avg(TerminalRow.latitude), func.avg(TerminalRow.longitude)
        rows = await self.session.execute(
            select(prefix, func.count(), lat, lon)
            .where(
                TerminalRow.region_code >= low,
                TerminalRow.region_code < high,
                TerminalRow.status != "retired",
            )
            .group_by(prefix)
        )
        return [(str(code), int(n), float(y), float(x)) for code, n, y, x in rows.all()]

    async def add_many(self, terminals: Sequence[Terminal]) -> None:
        """Insert terminals and their labels in a few multi-row statements."""
        if not terminals:
            return
        await self.session.execute(insert(TerminalRow), [_row_values(t) for t in terminals])

    async def get(self, terminal_id: str) -> Terminal | None:
        row = await self.session.get(TerminalRow, terminal_id)
        return _terminal(row) if row else None

    async def get_many(self, terminal_ids: Sequence[str]) -> list[Terminal]:
        """The terminals of these ids that exist (one query per 1,000 ids)."""
        ids = sorted(set(terminal_ids))
        found: list[Terminal] = []
        for start in range(0, len(ids), 1000):
            rows = await self.session.scalars(
                select(TerminalRow).where(TerminalRow.id.in_(ids[start : start + 1000]))
            )
            found += [_terminal(row) for row in rows.all()]
        return found

    async def by_token_hash(self, token_hash: str) -> Terminal | None:
        row = await self.session.scalar(
            select(TerminalRow).where(
                TerminalRow.token_hash == token_hash, TerminalRow.status != "retired"
            )
        )
        return _terminal(row) if row else None

    async def names_taken(self, pairs: set[tuple[str, str]]) -> list[tuple[str, str]]:
        """Which (region, name) pairs already belong to live terminals."""
        if not pairs:
            return []
        names = sorted({name for _, name in pairs})
        taken: list[tuple[str, str]] = []
        for start in range(0, len(names), 500):
            rows = await self.session.execute(
                select(TerminalRow.region_code, TerminalRow.name).where(
                    TerminalRow.name.in_(names[start : start + 500]),
                    TerminalRow.status != "retired",
                )
            )
            taken.extend((r, n) for r, n in rows.all() if (r, n) in pairs)
        return taken

    async def search(
        self, where: TerminalFilter, *, limit: int, offset: int
    ) -> tuple[list[Terminal], int]:
        conditions = self._conditions(where)
        total = await self.session.scalar(
            select(func.count()).select_from(TerminalRow).where(*conditions)
        )
        rows = (
            await self.session.scalars(
                select(TerminalRow)
                .where(*conditions)
                .order_by(TerminalRow.region_code, TerminalRow.name)
                .limit(limit)
                .offset(offset)
            )
        ).all()
        return [_terminal(r) for r in rows], int(total or 0)

    async def counts_by(self, within: str) -> list[tuple[str, str, int]]:
        """(tier, status, count) over a subtree, retired excluded."""
        low, high = subtree_range(within)
        rows = await self.session.execute(
            select(TerminalRow.tier, TerminalRow.status, func.count())
            .where(
                TerminalRow.region_code >= low,
                TerminalRow.region_code < high,
                TerminalRow.status != "retired",
            )
            .group_by(TerminalRow.tier, TerminalRow.status)
        )
        return [(tier, status, int(n)) for tier, status, n in rows.all()]

    async def offline_by_province(self) -> list[tuple[str, int, int]]:
        """(province code, in service, offline) over screens in service: not
        retired and seen at least once. A screen enrolled on the bench and not
        yet installed is not an outage (nor does it get an offline alarm)."""
        province = func.substr(TerminalRow.region_code, 1, LEVEL_LENGTHS[0])
        offline = case((TerminalRow.status == TerminalStatus.OFFLINE.value, 1), else_=0)
        rows = await self.session.execute(
            select(province, func.count(), func.sum(offline))
            .where(
                TerminalRow.status.in_([TerminalStatus.ONLINE.value, TerminalStatus.OFFLINE.value]),
                TerminalRow.last_seen_at.is_not(None),
            )
            .group_by(province)
        )
        return [(code, int(n), int(down or 0)) for code, n, down in rows.all()]

    async def positions(
        self, within: str, limit: int
    ) -> list[tuple[str, str, str, str, float, float]]:
        """(id, name, tier, status, lat, lon) of live terminals, for maps."""
        found = await self._located(within, TerminalRow.status != "retired", limit)
        return [(i, n, t, s, lat, lon) for i, n, t, s, _region, lat, lon in found]

    async def screens(self, within: str, statuses: Sequence[str], limit: int) -> list[Located]:
        """(id, name, tier, status, region, lat, lon) of a subtree's terminals
        in ``statuses``, for targeting previews and maps."""
        return await self._located(within, TerminalRow.status.in_(list(statuses)), limit)

    async def _located(self, within: str, status: ColumnElement[bool], limit: int) -> list[Located]:
        low, high = subtree_range(within)
        rows = await self.session.execute(
            select(
                TerminalRow.id,
                TerminalRow.name,
                TerminalRow.tier,
                TerminalRow.status,
                TerminalRow.region_code,
                TerminalRow.latitude,
                TerminalRow.longitude,
            )
            .where(TerminalRow.region_code >= low, TerminalRow.region_code < high, status)
            .limit(limit)
        )
        return [tuple(r) for r in rows.all()]  # type: ignore[misc]

    async def update(self, terminal: Terminal) -> None:
        values = _row_values(terminal)
        del values["id"]
        await self.session.execute(
            update(TerminalRow).where(TerminalRow.id == terminal.id).values(**values)
        )

    async def set_token(self, terminal_id: str, token_hash: str | None, **values: Any) -> None:
        await self.session.execute(
            update(TerminalRow)
            .where(TerminalRow.id == terminal_id)
            .values(token_hash=token_hash, **values)
        )

    async def audiences(self, within: str = "") -> dict[str, Audience]:
        """Every distinct audience among live terminals, by key."""
        low, high = subtree_range(within)
        rows = await self.session.execute(
            select(
                TerminalRow.audience_key,
                TerminalRow.region_code,
                TerminalRow.tier,
                TerminalRow.labels,
            )
            .where(
                TerminalRow.status.in_([s.value for s in LIVE_STATUSES]),
                TerminalRow.region_code >= low,
                TerminalRow.region_code < high,
            )
            .distinct()
        )
        found: dict[str, Audience] = {}
        for key, region, tier, labels in rows.all():
            tags, groups = decode_labels(labels)
            found[key] = Audience(region, Tier(tier), tuple(sorted(groups)), tuple(sorted(tags)))
        return found

    async def audience_key_of(self, terminal_id: str) -> str | None:
        return await self.session.scalar(
            select(TerminalRow.audience_key).where(TerminalRow.id == terminal_id)
        )

    async def add_codes(self, codes: Sequence[tuple[str, str, datetime, datetime]]) -> None:
        """(code_hash, terminal_id, created_at, expires_at) rows."""
        if not codes:
            return
        await self.session.execute(
            insert(EnrolmentCodeRow),
            [
                {"code_hash": h, "terminal_id": t, "created_at": c, "expires_at": e}
                for h, t, c, e in codes
            ],
        )

    async def code(self, code_hash: str) -> tuple[str, datetime, datetime | None] | None:
        """(terminal_id, expires_at, used_at) for an enrolment code digest."""
        row = await self.session.get(EnrolmentCodeRow, code_hash)
        return (row.terminal_id, row.expires_at, row.used_at) if row else None

    async def use_code(self, code_hash: str, now: datetime) -> bool:
        """Mark a code used; False when someone else used it first."""
        result = await self.session.execute(
            update(EnrolmentCodeRow)
            .where(EnrolmentCodeRow.code_hash == code_hash, EnrolmentCodeRow.used_at.is_(None))
            .values(used_at=now)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def void_codes(self, terminal_id: str, now: datetime) -> None:
        """Void a terminal's unused codes (when a new one is issued or it retires)."""
        await self.session.execute(
            update(EnrolmentCodeRow)
            .where(EnrolmentCodeRow.terminal_id == terminal_id, EnrolmentCodeRow.used_at.is_(None))
            .values(used_at=now)
        )

    def _conditions(self, where: TerminalFilter) -> list[ColumnElement[bool]]:
        """Filters shaped for ix_terminals_scope: status and tier always as IN
        lists (every live value when not filtered), then the region range."""
        statuses = [where.status] if where.status else list(LIVE_STATUSES)
        tiers = [where.tier] if where.tier else list(Tier)
        conditions: list[ColumnElement[bool]] = [
            TerminalRow.status.in_([s.value for s in statuses]),
            TerminalRow.tier.in_([t.value for t in tiers]),
        ]
        if where.region is not None:
            low, high = subtree_range(where.region)
            conditions += [TerminalRow.region_code >= low, TerminalRow.region_code < high]
        for kind, value in ((TAG, where.tag), (GROUP, where.group)):
            if value:
                conditions.append(TerminalRow.labels.contains(f" {kind}:{value} ", autoescape=True))
        if where.search:
            conditions.append(TerminalRow.name.contains(where.search, autoescape=True))
        return conditions
