"""The terminal rows a server process writes from heartbeats, and the sweep
that takes silent screens offline (``services/presence.py``).

Several processes write these rows at once: each flushes its own batch of
heartbeats, and the leader's sweeper marks the silent ones offline. So every
write here locks the rows it changes in id order first (on PostgreSQL), and
moves a status with one conditional statement, so each transition is
written by exactly one process.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from lianbo.adapters.db.tables import TerminalRow
from lianbo.domain.terminals import TerminalStatus

# Ids per locking statement (asyncpg allows 32,767 parameters).
LOCK_CHUNK = 5000


class TerminalPresenceWrites:
    """The heartbeat writes of ``TerminalRepository`` (which extends this)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lock(self, ids: Sequence[str]) -> None:
        """Take the rows' locks in id order before a batch changes them.

        On PostgreSQL two processes' heartbeat batches (or a batch and the
        sweeper) that lock shared rows in different orders deadlock, and one
        batch's "last seen" is lost; taken in one order, they queue instead.
        SQLite has one writer at a time: nothing to order."""
        if not ids or self.session.get_bind().dialect.name != "postgresql":
            return
        ordered = sorted(set(ids))
        for start in range(0, len(ordered), LOCK_CHUNK):
            chunk = ordered[start : start + LOCK_CHUNK]
            await self.session.execute(
                select(TerminalRow.id)
                .where(TerminalRow.id.in_(chunk))
                .order_by(TerminalRow.id)
                .with_for_update()
            )

    async def mark_seen(self, ids: Sequence[str], now: datetime) -> None:
        """Heartbeats: last seen now, and online (retired ones stay retired)."""
        await self.session.execute(
            update(TerminalRow)
            .where(TerminalRow.id.in_(list(ids)), TerminalRow.status != "retired")
            .values(last_seen_at=now, status=TerminalStatus.ONLINE.value)
        )

    async def mark_unseen_offline(self, before: datetime) -> list[str]:
        """Online terminals last seen before ``before`` go offline; their ids.

        One conditional statement: of two sweepers at once, each terminal
        goes offline by exactly one (the other's row no longer matches), so
        its transition is written once. The rows are locked in id order
        first, as heartbeat batches lock them (``lock``)."""
        stale = (
            TerminalRow.status == TerminalStatus.ONLINE.value,
            TerminalRow.last_seen_at < before,
        )
        if self.session.get_bind().dialect.name == "postgresql":
            await self.session.execute(
                select(TerminalRow.id).where(*stale).order_by(TerminalRow.id).with_for_update()
            )
        result = await self.session.scalars(
            update(TerminalRow)
            .where(
                TerminalRow.status == TerminalStatus.ONLINE.value,
                TerminalRow.last_seen_at < before,
            )
            .values(status=TerminalStatus.OFFLINE.value)
            .returning(TerminalRow.id)
        )
        return list(result.all())

    async def bring_online(self, ids: Sequence[str]) -> list[str]:
        """Offline or pending terminals among ``ids`` go online; the ids this
        call moved (another process's heartbeat may have moved one first:
        only one of them records the transition)."""
        if not ids:
            return []
        result = await self.session.scalars(
            update(TerminalRow)
            .where(
                TerminalRow.id.in_(list(ids)),
                TerminalRow.status.in_(
                    [TerminalStatus.OFFLINE.value, TerminalStatus.PENDING.value]
                ),
            )
            .values(status=TerminalStatus.ONLINE.value)
            .returning(TerminalRow.id)
        )
        return list(result.all())
