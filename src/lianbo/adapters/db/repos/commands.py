"""Commands sent to screens and their acknowledgements, in the store so the
process that hears an ack need not be the one the console asks."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from lianbo.adapters.db.shared_tables import TerminalCommandRow
from lianbo.domain.commands import SentCommand

_TABLE = TerminalCommandRow.metadata.tables["terminal_commands"]
# One statement for a batch of acks: a screen acknowledges only its own
# commands (the terminal id is the one its connection authenticated), and
# the first acknowledgement stands.
_ACK = (
    update(_TABLE)
    .where(
        _TABLE.c.id == bindparam("b_id"),
        _TABLE.c.terminal_id == bindparam("b_terminal"),
        _TABLE.c.acked_at.is_(None),
    )
    .values(acked_at=bindparam("b_at"))
)


class CommandRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, terminal_id: str, sent: SentCommand, *, keep: int) -> None:
        """Store a command just sent; the terminal's older ones beyond the
        newest ``keep`` are forgotten (the audit log keeps every one)."""
        self.session.add(
            TerminalCommandRow(
                id=sent.id,
                terminal_id=terminal_id,
                command=sent.command,
                sent_at=sent.sent_at,
                actor=sent.actor,
                delivered=sent.delivered,
            )
        )
        await self.session.flush()
        newest = (
            select(TerminalCommandRow.id)
            .where(TerminalCommandRow.terminal_id == terminal_id)
            .order_by(TerminalCommandRow.sent_at.desc(), TerminalCommandRow.id.desc())
            .limit(keep)
        )
        await self.session.execute(
            delete(TerminalCommandRow).where(
                TerminalCommandRow.terminal_id == terminal_id,
                TerminalCommandRow.id.not_in(newest.scalar_subquery()),
            )
        )

    async def delivered(self, command_id: str) -> None:
        """A process handed the command to the screen's connection."""
        await self.session.execute(
            update(TerminalCommandRow)
            .where(TerminalCommandRow.id == command_id)
            .values(delivered=True)
        )

    async def acked(self, acks: Sequence[tuple[str, str, datetime]]) -> None:
        """Record ``(terminal_id, command_id, at)`` acknowledgements; one for
        an unknown command or another terminal's is ignored."""
        if acks:
            rows = [{"b_terminal": t, "b_id": c, "b_at": at} for t, c, at in acks]
            await self.session.execute(_ACK, rows)

    async def recent(self, terminal_id: str, limit: int) -> list[SentCommand]:
        """The terminal's newest commands, newest first."""
        rows = await self.session.scalars(
            select(TerminalCommandRow)
            .where(TerminalCommandRow.terminal_id == terminal_id)
            .order_by(TerminalCommandRow.sent_at.desc(), TerminalCommandRow.id.desc())
            .limit(limit)
        )
        return [
            SentCommand(r.id, r.command, r.sent_at, r.actor, r.delivered, r.acked_at) for r in rows
        ]
