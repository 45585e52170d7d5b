"""Alarm webhooks to send: the transactional outbox (ADR 0016).

A row is added in the transaction that changed the alarm, so a webhook
exists if and only if its change committed; the leader's sender claims due
rows (``claim``: ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so two senders
never claim one row; SQLite has one process and ignores the clause), sends
them and records the outcome.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from lianbo.adapters.db.monitoring_tables import WebhookDeliveryRow as Row

PENDING, SENT, DEAD = "pending", "sent", "dead"


@dataclass(frozen=True, slots=True)
class WebhookDelivery:
    """One POST to make: its id is the receiver's ``Idempotency-Key``."""

    id: str
    url: str
    payload: dict[str, Any]
    attempts: int


class WebhookDeliveryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, delivery: WebhookDelivery, now: datetime) -> None:
        """Queue a delivery, due at once."""
        self.session.add(
            Row(
                id=delivery.id,
                url=delivery.url,
                payload=delivery.payload,
                created_at=now,
                attempts=0,
                next_attempt_at=now,
                state=PENDING,
            )
        )

    async def claim(self, now: datetime, until: datetime, limit: int) -> list[WebhookDelivery]:
        """Up to ``limit`` due deliveries, oldest first, no longer due before
        ``until`` (the claim's lease: a sender that dies holding them leaves
        them to the next one then)."""
        rows = (
            await self.session.scalars(
                select(Row)
                .where(Row.state == PENDING, Row.next_attempt_at <= now)
                .order_by(Row.next_attempt_at, Row.seq)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        ).all()
        found = [WebhookDelivery(r.id, r.url, dict(r.payload), r.attempts) for r in rows]
        if found:
            await self._set([d.id for d in found], next_attempt_at=until)
        return found

    async def sent(self, delivery_id: str, now: datetime) -> None:
        await self._set([delivery_id], state=SENT, done_at=now, attempts=Row.attempts + 1)

    async def failed(
        self, delivery_id: str, error: str, now: datetime, retry_at: datetime | None
    ) -> None:
        """One more failed attempt: due again at ``retry_at``, or dead (None)."""
        values: dict[str, Any] = {"attempts": Row.attempts + 1, "last_error": error}
        if retry_at is None:
            values |= {"state": DEAD, "done_at": now}
        else:
            values["next_attempt_at"] = retry_at
        await self._set([delivery_id], **values)

    async def release(self, delivery_ids: Sequence[str], at: datetime) -> None:
        """Claimed but not attempted: due again at ``at``."""
        if delivery_ids:
            await self._set(delivery_ids, next_attempt_at=at)

    async def _set(self, delivery_ids: Sequence[str], **values: Any) -> None:
        await self.session.execute(update(Row).where(Row.id.in_(list(delivery_ids))).values(values))

    async def forget(self, cutoff: datetime) -> int:
        """Delete sent and dead deliveries done before ``cutoff``; how many."""
        result = await self.session.execute(
            delete(Row).where(Row.state != PENDING, Row.done_at < cutoff)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def counts(self) -> dict[str, int]:
        """Deliveries by state (``/metrics``)."""
        rows = await self.session.execute(select(Row.state, func.count()).group_by(Row.state))
        return {PENDING: 0, DEAD: 0} | {state: int(n) for state, n in rows.all()}

    async def oldest_pending(self) -> datetime | None:
        """When the oldest pending delivery was queued (a backlog's age)."""
        oldest: datetime | None = await self.session.scalar(
            select(func.min(Row.created_at)).where(Row.state == PENDING)
        )
        return oldest

    async def get(self, delivery_id: str) -> tuple[str, int, str | None] | None:
        """(state, attempts, last_error) of one delivery (tests, diagnostics)."""
        row = await self.session.scalar(select(Row).where(Row.id == delivery_id))
        return (row.state, row.attempts, row.last_error) if row else None
