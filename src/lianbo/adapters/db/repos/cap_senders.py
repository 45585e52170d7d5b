"""The CAP senders an admin trusts, and how (ADR 0027). Read on every CAP
import, from the store: a change on one process holds on every other at once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from lianbo.adapters.db.alert_tables import CapSenderRow
from lianbo.domain.alerting.signatures import SenderTrust


def _trust(row: CapSenderRow) -> SenderTrust:
    return SenderTrust(row.sender, tuple(row.certificates), row.must_be_signed)


class CapSenderRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, sender: str) -> SenderTrust | None:
        row = await self.session.get(CapSenderRow, sender)
        return _trust(row) if row else None

    async def all(self) -> list[SenderTrust]:
        rows = await self.session.scalars(select(CapSenderRow).order_by(CapSenderRow.sender))
        return [_trust(row) for row in rows]

    async def put(self, trust: SenderTrust, at: datetime, by: str) -> None:
        """Add the sender, or replace what was configured for it."""
        row = await self.session.get(CapSenderRow, trust.sender)
        if row is None:
            row = CapSenderRow(sender=trust.sender)
            self.session.add(row)
        row.certificates = list(trust.certificates)
        row.must_be_signed = trust.must_be_signed
        row.updated_at = at
        row.updated_by = by
        await self.session.flush()

    async def remove(self, sender: str) -> bool:
        """Forget the sender; False when it was not configured."""
        result = await self.session.execute(
            delete(CapSenderRow).where(CapSenderRow.sender == sender)
        )
        return bool(getattr(result, "rowcount", 0))
