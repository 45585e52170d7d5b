"""Alert deliveries: one row per alert and terminal it was sent to.

The rules (what may follow what, which moments a state stamps) are the
domain's (``domain.alerting.deliveries``); this repository loads and
stores rows, and makes each step atomic: a conditional UPDATE on the
states the step may replace, and inserts that leave an existing row alone
(``ON CONFLICT DO NOTHING``), so two processes handling the same screen at
once never write a second row nor move one backwards. Rows are written in
bulk (one alert can reach 10k+ screens) and counted with the covering
indexes in ``alert_tables``.

Acks arrive in batches (``services/alert_acks.py``): ``states`` reads (and
on PostgreSQL locks) many rows at once in one order, (alert, terminal), and
``advance_many`` moves many rows per statement, so two processes' batches
touching the same rows queue instead of deadlocking.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import String, and_, func, literal, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from lianbo.adapters.db.alert_tables import AlertRow, DeliveryRow
from lianbo.domain.alerting import lifecycle
from lianbo.domain.alerting.deliveries import DeliveryState, Step
from lianbo.domain.alerting.records import Delivery
from lianbo.domain.regions import subtree_range

if TYPE_CHECKING:
    from lianbo.adapters.db.repos.alerts import Screen

CHUNK = 2000
Key = tuple[str, str]  # (alert id, terminal id): one delivery row


def _moment_column(state: DeliveryState) -> str:
    """The column holding when a delivery reached ``state``."""
    return f"{state.value.replace('-', '_')}_at"


_DELIVERY_FIELDS = tuple(f.name for f in fields(Delivery))


def _delivery(row: DeliveryRow) -> Delivery:
    values = {name: getattr(row, name) for name in _DELIVERY_FIELDS}
    return Delivery(**values | {"state": DeliveryState(row.state)})


class DeliveryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add_deliveries(self, alert_id: str, screens: Sequence[Screen], now: datetime) -> None:
        """A ``sent`` row per screen; a screen that already has one keeps it
        (another process may have written it a moment ago). In the caller's
        transaction: the alert and its rows commit together or not at all."""
        ordered = sorted(screens, key=lambda s: s.id)  # one order: see module doc
        if self.session.get_bind().dialect.name == "postgresql":
            await self._add_unnested(alert_id, ordered, now)
            return
        rows = [
            {
                "alert_id": alert_id,
                "terminal_id": s.id,
                "tier": s.tier,
                "region": s.region,
                "state": DeliveryState.SENT.value,
                "sent_at": now,
            }
            for s in ordered
        ]
        statement = sqlite_insert(DeliveryRow).on_conflict_do_nothing()
        for start in range(0, len(rows), CHUNK):
            await self.session.execute(statement, rows[start : start + CHUNK])

    async def _add_unnested(self, alert_id: str, screens: Sequence[Screen], now: datetime) -> None:
        """PostgreSQL: all the rows in one statement, ``INSERT … SELECT
        unnest(…)`` over three arrays: one round trip and one plan for 10,000
        screens, instead of an ``executemany`` of as many parameter sets."""
        if not screens:
            return
        texts = ARRAY(String)
        rows = (
            func.unnest(
                literal([s.id for s in screens], texts),
                literal([s.tier for s in screens], texts),
                literal([s.region for s in screens], texts),
            )
            .table_valued("terminal_id", "tier", "region")
            .render_derived(name="screens")
        )
        columns = ("alert_id", "terminal_id", "tier", "region", "state", "sent_at")
        source = select(
            literal(alert_id, String),
            rows.c.terminal_id,
            rows.c.tier,
            rows.c.region,
            literal(DeliveryState.SENT.value, String),
            literal(now, DeliveryRow.__table__.c.sent_at.type),
        )
        statement = pg_insert(DeliveryRow).from_select(columns, source)
        await self.session.execute(statement.on_conflict_do_nothing())

    async def delivery(self, alert_id: str, terminal_id: str) -> Delivery | None:
        """The row as committed now (a rival report may have moved it)."""
        row = await self.session.get(DeliveryRow, (alert_id, terminal_id), populate_existing=True)
        return _delivery(row) if row else None

    async def states(self, keys: Sequence[Key], *, lock: bool = False) -> dict[Key, DeliveryState]:
        """The committed state of each of these rows that exists. With
        ``lock`` on PostgreSQL the rows are locked (``FOR UPDATE``) in
        (alert, terminal) order, as ``TerminalRepository.lock`` does for
        heartbeats: two batches sharing rows then queue, never deadlock, and
        what is read here stays true until this transaction ends."""
        lock = lock and self.session.get_bind().dialect.name == "postgresql"
        by_alert: dict[str, set[str]] = {}
        for alert_id, terminal_id in keys:
            by_alert.setdefault(alert_id, set()).add(terminal_id)
        found: dict[Key, DeliveryState] = {}
        for alert_id in sorted(by_alert):
            ordered = sorted(by_alert[alert_id])
            for start in range(0, len(ordered), CHUNK):
                query = (
                    select(DeliveryRow.terminal_id, DeliveryRow.state)
                    .where(
                        DeliveryRow.alert_id == alert_id,
                        DeliveryRow.terminal_id.in_(ordered[start : start + CHUNK]),
                    )
                    .order_by(DeliveryRow.terminal_id)
                )
                rows = await self.session.execute(query.with_for_update() if lock else query)
                found.update(((alert_id, t), DeliveryState(s)) for t, s in rows.all())
        return found

    async def delivered_ids(self, terminal_id: str, alert_ids: Sequence[str]) -> set[str]:
        if not alert_ids:
            return set()
        rows = await self.session.scalars(
            select(DeliveryRow.alert_id).where(
                DeliveryRow.terminal_id == terminal_id, DeliveryRow.alert_id.in_(list(alert_ids))
            )
        )
        return set(rows.all())

    async def delivered_pairs(
        self, terminal_ids: Sequence[str], alert_ids: Sequence[str]
    ) -> set[Key]:
        """Which of these terminals have a row for which of these alerts."""
        found: set[Key] = set()
        if not alert_ids:
            return found
        ordered = sorted(set(terminal_ids))
        for start in range(0, len(ordered), CHUNK):
            rows = await self.session.execute(
                select(DeliveryRow.alert_id, DeliveryRow.terminal_id).where(
                    DeliveryRow.alert_id.in_(list(alert_ids)),
                    DeliveryRow.terminal_id.in_(ordered[start : start + CHUNK]),
                )
            )
            found.update((a, t) for a, t in rows.all())
        return found

    async def withdrawn_for(self, terminal_ids: Sequence[str], now: datetime) -> set[Key]:
        """``AlertRepository.cancelled_for`` for many terminals at once: the
        (alert, terminal) rows of withdrawn alerts, not yet expired, that a
        terminal was sent and has not acked cancelled."""
        found: set[Key] = set()
        ordered = sorted(set(terminal_ids))
        for start in range(0, len(ordered), CHUNK):
            rows = await self.session.execute(
                select(DeliveryRow.alert_id, DeliveryRow.terminal_id)
                .join(AlertRow, AlertRow.id == DeliveryRow.alert_id)
                .where(
                    DeliveryRow.terminal_id.in_(ordered[start : start + CHUNK]),
                    DeliveryRow.state != DeliveryState.CANCELLED.value,
                    AlertRow.state.in_([s.value for s in lifecycle.WITHDRAWN]),
                    AlertRow.cancel_notice.is_not(None),
                    AlertRow.expires > now,
                )
            )
            found.update((a, t) for a, t in rows.all())
        return found

    async def advance(self, alert_id: str, terminal_id: str, step: Step, now: datetime) -> bool:
        """Apply one step (``domain.alerting.deliveries.advance``) if the row
        is still in a state it may replace; False when another report got
        there first (the row is then at least as far along)."""
        return bool(await self.advance_many(alert_id, [terminal_id], step, now))

    async def advance_many(
        self, alert_id: str, terminal_ids: Sequence[str], step: Step, now: datetime
    ) -> set[str]:
        """Apply one step to many rows of one alert, each only if it is still
        in a state the step may replace; the terminals whose row moved (the
        others were already as far along)."""
        values: dict[str, Any] = {"state": step.state.value}
        for moment in step.moments:
            column = _moment_column(moment)
            values[column] = func.coalesce(getattr(DeliveryRow, column), now)
        if step.reason is not None:
            values["reason"] = step.reason
        ordered = sorted(set(terminal_ids))
        moved: set[str] = set()
        for start in range(0, len(ordered), CHUNK):
            result = await self.session.execute(
                update(DeliveryRow)
                .where(
                    DeliveryRow.alert_id == alert_id,
                    DeliveryRow.terminal_id.in_(ordered[start : start + CHUNK]),
                    DeliveryRow.state.in_([s.value for s in step.sources]),
                )
                .values(**values)
                .returning(DeliveryRow.terminal_id)
                # Rows are not loaded as objects here: nothing to keep in step.
                .execution_options(synchronize_session=False)
            )
            moved.update(result.scalars().all())
        return moved

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
            conditions.append(DeliveryRow.state.in_([str(s) for s in states]))
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
