"""Alerts, their reference chains and per-terminal deliveries.

Delivery rows are written in bulk (one alert can reach 10k+ screens) and
counted with the covering indexes in ``alert_tables``. Moving a delivery
forward fills the timestamps of the states it skipped, so counts are
"reached at least this state" and latency is ``displayed_at - sent_at``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from lianbo.adapters.db.alert_tables import AlertReferenceRow, AlertRow, DeliveryRow
from lianbo.adapters.db.tables import TerminalRow
from lianbo.domain.regions import subtree_range

ACTIVE = "active"
PENDING = "pending-confirmation"
CANCELLED = "cancelled"
EXPIRED = "expired"
SUPERSEDED = "superseded"
RECORDED = "recorded"  # kept and exported, never disseminated (Cancel, Ack, Error, Draft)
STATES = (ACTIVE, PENDING, CANCELLED, EXPIRED, SUPERSEDED, RECORDED)

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


class DuplicateAlert(Exception):
    """The (sender, identifier, sent) is taken: a concurrent submission of the
    same message won the race. The transaction is spoiled; use a new one."""


@dataclass(frozen=True, slots=True)
class StoredAlert:
    """An alert as kept: CAP identity, what players get, and its life."""

    id: str
    sender: str
    identifier: str
    sent: datetime
    status: str
    msg_type: str
    severity: str
    level: int | None
    event: str
    area: dict[str, Any]
    texts: dict[str, Any]
    onset: datetime | None
    expires: datetime
    state: str
    issuer: str
    issuer_id: str
    confirmed_by: str | None
    region: str
    revision: int
    replaces: list[str]
    topics: list[str]
    targeted: int
    notice: str | None
    signature: str | None
    key_id: str | None
    cancel_notice: str | None
    cancel_signature: str | None
    cancel_key_id: str | None
    cap_xml: str
    created_at: datetime
    activated_at: datetime | None
    ended_at: datetime | None
    superseded_by: str | None


_ALERT_FIELDS = tuple(f.name for f in fields(StoredAlert))


def _alert(row: AlertRow) -> StoredAlert:
    values = {name: getattr(row, name) for name in _ALERT_FIELDS}
    values["replaces"] = list(row.replaces or [])
    values["topics"] = list(row.topics or [])
    return StoredAlert(**values)


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


@dataclass(frozen=True, slots=True)
class Screen:
    """A live terminal as targeting needs it."""

    id: str
    tier: str
    region: str
    lat: float
    lon: float


class AlertRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # alerts

    async def add(self, alert: StoredAlert) -> None:
        values = {name: getattr(alert, name) for name in _ALERT_FIELDS}
        try:
            await self.session.execute(insert(AlertRow), [values])
        except IntegrityError:
            raise DuplicateAlert(alert.identifier) from None

    async def get(self, alert_id: str) -> StoredAlert | None:
        row = await self.session.get(AlertRow, alert_id)
        return _alert(row) if row else None

    async def by_key(self, sender: str, identifier: str, sent: datetime) -> StoredAlert | None:
        row = await self.session.scalar(
            select(AlertRow).where(
                AlertRow.sender == sender, AlertRow.identifier == identifier, AlertRow.sent == sent
            )
        )
        return _alert(row) if row else None

    async def change(self, alert_id: str, **values: Any) -> None:
        await self.session.execute(update(AlertRow).where(AlertRow.id == alert_id).values(**values))

    async def add_references(self, alert_id: str, referenced: Sequence[str]) -> None:
        if referenced:
            await self.session.execute(
                insert(AlertReferenceRow),
                [{"alert_id": alert_id, "referenced_id": r} for r in referenced],
            )

    async def references(self, alert_id: str) -> list[str]:
        rows = await self.session.scalars(
            select(AlertReferenceRow.referenced_id).where(AlertReferenceRow.alert_id == alert_id)
        )
        return list(rows.all())

    async def search(
        self, within: str, state: str | None, *, limit: int, offset: int
    ) -> tuple[list[StoredAlert], int]:
        low, high = subtree_range(within)
        conditions = [AlertRow.region >= low, AlertRow.region < high]
        if state is not None:
            conditions.append(AlertRow.state == state)
        total = await self.session.scalar(
            select(func.count()).select_from(AlertRow).where(*conditions)
        )
        rows = await self.session.scalars(
            select(AlertRow)
            .where(*conditions)
            .order_by(AlertRow.created_at.desc(), AlertRow.id)
            .limit(limit)
            .offset(offset)
        )
        return [_alert(r) for r in rows.all()], int(total or 0)

    async def active(self, now: datetime) -> list[StoredAlert]:
        """Alerts on air: active and not yet expired, oldest first."""
        rows = await self.session.scalars(
            select(AlertRow)
            .where(AlertRow.state == ACTIVE, AlertRow.expires > now)
            .order_by(AlertRow.created_at)
        )
        return [_alert(r) for r in rows.all()]

    async def cancelled_for(self, terminal_id: str, now: datetime) -> list[StoredAlert]:
        """Cancelled or superseded alerts, not yet expired, that this terminal
        was sent and has not acked as cancelled: it may still be showing them
        (an Update's area may no longer reach it)."""
        rows = await self.session.scalars(
            select(AlertRow)
            .join(DeliveryRow, DeliveryRow.alert_id == AlertRow.id)
            .where(
                DeliveryRow.terminal_id == terminal_id,
                DeliveryRow.state != "cancelled",
                AlertRow.state.in_((CANCELLED, SUPERSEDED)),
                AlertRow.cancel_notice.is_not(None),
                AlertRow.expires > now,
            )
        )
        return [_alert(r) for r in rows.all()]

    async def expire(self, now: datetime) -> list[str]:
        """Active and pending alerts whose time is up become expired; their ids."""
        live = (ACTIVE, PENDING)
        ids = list(
            (
                await self.session.scalars(
                    select(AlertRow.id).where(AlertRow.state.in_(live), AlertRow.expires <= now)
                )
            ).all()
        )
        if ids:
            await self.session.execute(
                update(AlertRow)
                .where(AlertRow.id.in_(ids), AlertRow.state.in_(live))
                .values(state=EXPIRED, ended_at=now)
            )
        return ids

    # terminals, as targeting sees them

    async def screens(
        self, within: str, statuses: Sequence[str] = ("online", "offline")
    ) -> list[Screen]:
        """Terminals in a subtree (by default the enrolled, not retired ones)."""
        low, high = subtree_range(within)
        rows = await self.session.execute(
            select(
                TerminalRow.id,
                TerminalRow.tier,
                TerminalRow.region_code,
                TerminalRow.latitude,
                TerminalRow.longitude,
            ).where(
                TerminalRow.region_code >= low,
                TerminalRow.region_code < high,
                TerminalRow.status.in_(list(statuses)),
            )
        )
        return [Screen(i, t, r, la, lo) for i, t, r, la, lo in rows.all()]

    # deliveries

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
