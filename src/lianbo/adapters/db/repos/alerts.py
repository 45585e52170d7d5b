"""Alerts, their reference chains, and the screens targeting reaches.

An alert's states and what may follow what are the domain's
(``domain.alerting.lifecycle``); this repository loads and stores rows and
makes a transition atomic: ``transition`` changes the state only if the row
is still in the state the decision was made from, ``expire`` only alerts in
a state expiry may start from. Per-terminal deliveries have their own
repository (``alert_deliveries``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from lianbo.adapters.db.alert_tables import (
    AlertAwaitedRow,
    AlertReferenceRow,
    AlertRow,
    DeliveryRow,
)
from lianbo.adapters.db.tables import TerminalRow
from lianbo.domain.alerting import lifecycle
from lianbo.domain.alerting.deliveries import DeliveryState
from lianbo.domain.alerting.lifecycle import AlertAction, AlertState
from lianbo.domain.alerting.records import StoredAlert
from lianbo.domain.alerting.signatures import SignatureCheck
from lianbo.domain.alerting.warnings import CapWarning
from lianbo.domain.regions import subtree_range


class DuplicateAlert(Exception):
    """The (sender, identifier, sent) is taken: a concurrent submission of the
    same message won the race. The transaction is spoiled; use a new one."""


_ALERT_FIELDS = tuple(f.name for f in fields(StoredAlert))
# pg_advisory_xact_lock key for "picking a China-profile identifier"
# ("lianbo" in ASCII, then 3; the manifest lock ends in 2).
IDENTIFIER_LOCK = 0x6C69616E626F_0003
Key = tuple[str, str, datetime]  # CAP sender, identifier, sent


def _alert(row: AlertRow) -> StoredAlert:
    values = {name: getattr(row, name) for name in _ALERT_FIELDS}
    values["replaces"] = list(row.replaces or [])
    values["topics"] = list(row.topics or [])
    values["state"] = AlertState(row.state)
    values["warnings"] = tuple(CapWarning.of_json(w) for w in row.warnings or ())
    signature = row.cap_signature
    values["cap_signature"] = SignatureCheck.of_json(signature) if signature else None
    return StoredAlert(**values)


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
        values["state"] = alert.state.value
        values["warnings"] = [w.as_json() for w in alert.warnings]
        signature = alert.cap_signature
        values["cap_signature"] = signature.as_json() if signature else None
        try:
            await self.session.execute(insert(AlertRow), [values])
        except IntegrityError:
            raise DuplicateAlert(alert.identifier) from None

    async def get(self, alert_id: str) -> StoredAlert | None:
        row = await self.session.get(AlertRow, alert_id)
        return _alert(row) if row else None

    async def fresh(self, alert_id: str) -> StoredAlert | None:
        """The alert as committed now (not as this session first read it)."""
        row = await self.session.get(AlertRow, alert_id, populate_existing=True)
        return _alert(row) if row else None

    async def by_key(self, sender: str, identifier: str, sent: datetime) -> StoredAlert | None:
        row = await self.session.scalar(
            select(AlertRow).where(
                AlertRow.sender == sender, AlertRow.identifier == identifier, AlertRow.sent == sent
            )
        )
        return _alert(row) if row else None

    async def lock_identifiers(self) -> None:
        """Until commit, this transaction alone picks identifiers in China's
        form: two requests issuing in one second take turns, and the later
        sees the earlier's sequence number. PostgreSQL: an advisory lock.
        SQLite: its one write lock, taken now by a write that changes
        nothing (reads before a write see the last commit, not a lock)."""
        if self.session.get_bind().dialect.name == "postgresql":
            await self.session.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": IDENTIFIER_LOCK}
            )
        else:
            await self.session.execute(text("UPDATE alerts SET id = id WHERE 0"))

    async def identifiers_from(self, sender: str, prefix: str) -> set[str]:
        """The identifiers ``sender`` has used that start with ``prefix``."""
        rows = await self.session.scalars(
            select(AlertRow.identifier).where(
                AlertRow.sender == sender, AlertRow.identifier.startswith(prefix, autoescape=True)
            )
        )
        return set(rows)

    async def change(self, alert_id: str, **values: Any) -> None:
        """Store facts about an alert (never its state: see ``transition``)."""
        assert "state" not in values, "a state changes through transition()"
        await self.session.execute(update(AlertRow).where(AlertRow.id == alert_id).values(**values))

    async def transition(
        self, alert_id: str, before: AlertState, after: AlertState, **values: Any
    ) -> bool:
        """Move the alert from ``before`` to ``after`` (the domain's decision,
        ``domain.alerting.lifecycle``), with the facts that go with it, only
        if it is still ``before``; False when another process changed it
        first (reload with ``fresh`` and decide again). The row stays
        locked until commit (PostgreSQL), so a rival waits, then fails."""
        result = await self.session.execute(
            update(AlertRow)
            .where(AlertRow.id == alert_id, AlertRow.state == before.value)
            .values(state=after.value, **values)
        )
        return bool(getattr(result, "rowcount", 0))

    async def add_references(self, alert_id: str, referenced: Sequence[str]) -> None:
        if referenced:
            await self.session.execute(
                insert(AlertReferenceRow),
                [{"alert_id": alert_id, "referenced_id": r} for r in referenced],
            )

    async def await_messages(self, alert_id: str, keys: Sequence[Key]) -> None:
        """Note the messages ``alert_id`` references that we never received."""
        if keys:
            rows = [dict(zip(("sender", "identifier", "sent"), k, strict=True)) for k in keys]
            await self.session.execute(
                insert(AlertAwaitedRow), [{"alert_id": alert_id, **row} for row in rows]
            )

    async def awaiting(self, key: Key) -> list[str]:
        """The alerts that reference the message ``key`` and wait for it."""
        sender, identifier, sent = key
        rows = await self.session.scalars(
            select(AlertAwaitedRow.alert_id).where(
                AlertAwaitedRow.sender == sender,
                AlertAwaitedRow.identifier == identifier,
                AlertAwaitedRow.sent == sent,
            )
        )
        return list(rows.all())

    async def arrived(self, key: Key, alert_ids: Sequence[str]) -> None:
        """The message ``key`` arrived: ``alert_ids`` wait for it no more."""
        sender, identifier, sent = key
        await self.session.execute(
            delete(AlertAwaitedRow).where(
                AlertAwaitedRow.alert_id.in_(alert_ids),
                AlertAwaitedRow.sender == sender,
                AlertAwaitedRow.identifier == identifier,
                AlertAwaitedRow.sent == sent,
            )
        )

    async def references(self, alert_id: str) -> list[str]:
        rows = await self.session.scalars(
            select(AlertReferenceRow.referenced_id).where(AlertReferenceRow.alert_id == alert_id)
        )
        return list(rows.all())

    async def search(
        self, within: str, state: AlertState | None, *, limit: int, offset: int
    ) -> tuple[list[StoredAlert], int]:
        low, high = subtree_range(within)
        conditions = [AlertRow.region >= low, AlertRow.region < high]
        if state is not None:
            conditions.append(AlertRow.state == state.value)
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
            .where(AlertRow.state == AlertState.ACTIVE.value, AlertRow.expires > now)
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
                DeliveryRow.state != DeliveryState.CANCELLED.value,
                AlertRow.state.in_([s.value for s in lifecycle.WITHDRAWN]),
                AlertRow.cancel_notice.is_not(None),
                AlertRow.expires > now,
            )
        )
        return [_alert(r) for r in rows.all()]

    async def expire(self, now: datetime) -> list[str]:
        """Live alerts whose time is up (``lifecycle.is_due``) become expired;
        the ids this call expired, not those another process expired first."""
        sources = [s.value for s in lifecycle.sources(AlertAction.EXPIRE)]
        ids = await self.session.scalars(
            update(AlertRow)
            .where(AlertRow.state.in_(sources), AlertRow.expires <= now)
            .values(state=AlertState.EXPIRED.value, ended_at=now)
            .returning(AlertRow.id)
        )
        return list(ids.all())

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
