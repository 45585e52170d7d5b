"""Alert deliveries: one row per alert and terminal it was sent to.

Delivery rows are written in bulk (one alert can reach 10k+ screens) and
counted with the covering indexes in ``alert_tables``. Moving a delivery
forward fills the timestamps of the states it skipped, so counts are
"reached at least this state" and latency is ``displayed_at - sent_at``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from lianbo.adapters.db.alert_tables import DeliveryRow
from lianbo.domain.regions import subtree_range

if TYPE_CHECKING:  # the alerts repository re-exports ``Delivery`` from here
    from lianbo.adapters.db.repos.alerts import Screen

DELIVERY_STATES: tuple[str, ...] = ("sent", "received", "verified", "displayed")
DELIVERY_STATES += ("outside-area", "failed", "cancelled")
# How far along each state is; a terminal's report never moves a row back.
RANK = {
    "sent": 0,
    "received": 1,
    "verified": 2,
    "displayed": 3,
    "outside-area": 3,
    "failed": 3,
    "cancelled": 4,
}
# The timestamps a state implies (earlier ones are filled when skipped).
IMPLIES = {
    "received": ("received_at",),
    "verified": ("received_at", "verified_at"),
    "displayed": ("received_at", "verified_at", "displayed_at"),
    "outside-area": ("received_at", "verified_at", "outside_area_at"),
    "failed": ("received_at", "failed_at"),
    "cancelled": ("cancelled_at",),
}
CHUNK = 2000


@dataclass(frozen=True, slots=True)
class Delivery:
    alert_id: str
    terminal_id: str
    tier: str
    region: str
    state: str
    reason: str | None
    sent_at: datetime
    received_at: datetime | None
    verified_at: datetime | None
    displayed_at: datetime | None
    outside_area_at: datetime | None
    failed_at: datetime | None
    cancelled_at: datetime | None


_DELIVERY_FIELDS = tuple(f.name for f in fields(Delivery))


def _delivery(row: DeliveryRow) -> Delivery:
    return Delivery(**{name: getattr(row, name) for name in _DELIVERY_FIELDS})


class DeliveryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add_deliveries(self, alert_id: str, screens: Sequence[Screen], now: datetime) -> None:
        rows = [
            {
                "alert_id": alert_id,
                "terminal_id": s.id,
                "tier": s.tier,
                "region": s.region,
                "state": "sent",
                "sent_at": now,
            }
            for s in screens
        ]
        for start in range(0, len(rows), CHUNK):
            await self.session.execute(insert(DeliveryRow), rows[start : start + CHUNK])

    async def delivery(self, alert_id: str, terminal_id: str) -> Delivery | None:
        row = await self.session.get(DeliveryRow, (alert_id, terminal_id))
        return _delivery(row) if row else None

    async def delivered_ids(self, terminal_id: str, alert_ids: Sequence[str]) -> set[str]:
        if not alert_ids:
            return set()
        rows = await self.session.scalars(
            select(DeliveryRow.alert_id).where(
                DeliveryRow.terminal_id == terminal_id, DeliveryRow.alert_id.in_(list(alert_ids))
            )
        )
        return set(rows.all())

    async def advance(
        self, alert_id: str, terminal_id: str, state: str, reason: str | None, now: datetime
    ) -> bool:
        """Move one delivery forward to ``state``; False when it is already
        that far (a repeated or late report changes nothing)."""
        behind = [s for s, rank in RANK.items() if rank < RANK[state]]
        values: dict[str, Any] = {"state": state}
        for column in IMPLIES[state]:
            values[column] = func.coalesce(getattr(DeliveryRow, column), now)
        if reason is not None:
            values["reason"] = reason[:200]
        result = await self.session.execute(
            update(DeliveryRow)
            .where(
                DeliveryRow.alert_id == alert_id,
                DeliveryRow.terminal_id == terminal_id,
                DeliveryRow.state.in_(behind),
            )
            .values(**values)
        )
        return bool(getattr(result, "rowcount", 0))

    async def counts(self, alert_id: str) -> dict[str, int]:
        """Deliveries that reached at least each state."""
        row = (
            await self.session.execute(
                select(
                    func.count(),
                    func.count(DeliveryRow.received_at),
                    func.count(DeliveryRow.verified_at),
                    func.count(DeliveryRow.displayed_at),
                    func.count(DeliveryRow.outside_area_at),
                    func.count(DeliveryRow.failed_at),
                    func.count(DeliveryRow.cancelled_at),
                ).where(DeliveryRow.alert_id == alert_id)
            )
        ).one()
        names = ("sent", "received", "verified", "displayed", "outside_area", "failed")
        return dict(zip((*names, "cancelled"), (int(n) for n in row), strict=True))

    async def display_latencies(self, alert_id: str) -> list[float]:
        """Seconds from sent to displayed, for each displayed delivery."""
        rows = await self.session.execute(
            select(DeliveryRow.sent_at, DeliveryRow.displayed_at).where(
                DeliveryRow.alert_id == alert_id, DeliveryRow.displayed_at.is_not(None)
            )
        )
        return [(shown - sent).total_seconds() for sent, shown in rows.all() if shown is not None]

    async def progress(self, alert_id: str) -> list[tuple[str, str, str, int]]:
        """(tier, region, state, count) of one alert's deliveries."""
        rows = await self.session.execute(
            select(DeliveryRow.tier, DeliveryRow.region, DeliveryRow.state, func.count())
            .where(DeliveryRow.alert_id == alert_id)
            .group_by(DeliveryRow.tier, DeliveryRow.region, DeliveryRow.state)
        )
        return [(t, r, s, int(n)) for t, r, s, n in rows.all()]

    async def deliveries(
        self,
        alert_id: str,
        states: Sequence[str] | None,
        *,
        tier: str | None = None,
        region: str | None = None,
        limit: int,
        offset: int,
    ) -> tuple[list[Delivery], int]:
        conditions = [DeliveryRow.alert_id == alert_id]
        if states:
            conditions.append(DeliveryRow.state.in_(list(states)))
        if tier:
            conditions.append(DeliveryRow.tier == tier)
        if region:
            low, high = subtree_range(region)
            conditions.append(and_(DeliveryRow.region >= low, DeliveryRow.region < high))
        total = await self.session.scalar(
            select(func.count()).select_from(DeliveryRow).where(*conditions)
        )
        rows = await self.session.scalars(
            select(DeliveryRow)
            .where(*conditions)
            .order_by(DeliveryRow.state, DeliveryRow.terminal_id)
            .limit(limit)
            .offset(offset)
        )
        return [_delivery(r) for r in rows.all()], int(total or 0)
