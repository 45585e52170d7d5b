"""Whether a screen is there: heartbeats in, online/offline out.

Like Home Assistant's update coordinator, a transition is logged once when a
screen goes down and once when it comes back, never on every heartbeat.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import structlog

from lianbo.adapters.db.uow import UnitOfWork
from lianbo.domain.ports import Clock
from lianbo.domain.terminals import Terminal, TerminalStatus

log = structlog.get_logger()


async def record_heartbeat(
    uow: UnitOfWork, clock: Clock, terminal: Terminal, status: dict[str, Any] | None = None
) -> datetime:
    """Mark the terminal seen now and keep its status report; returns the
    server time for the reply."""
    now = clock.now()
    await uow.terminals.mark_seen([terminal.id], now)
    if status is not None:
        await uow.reports.save([(terminal.id, now, status)])
    await uow.commit()
    if terminal.status is not TerminalStatus.ONLINE:
        log.info("terminal online", terminal_id=terminal.id, name=terminal.name)
    return now


async def record_heartbeats(uow: UnitOfWork, clock: Clock, terminal_ids: list[str]) -> None:
    """Many heartbeats in one statement (simulators, batched ingest)."""
    await uow.terminals.mark_seen(terminal_ids, clock.now())
    await uow.commit()


async def sweep_offline(uow: UnitOfWork, clock: Clock, hold_off: timedelta) -> list[str]:
    """Mark online terminals unseen for ``hold_off`` as offline; returns their ids."""
    gone = await uow.terminals.mark_unseen_offline(clock.now() - hold_off)
    await uow.commit()
    for terminal_id in gone:
        log.info("terminal offline", terminal_id=terminal_id)
    return gone


async def watch(
    uows: Callable[[], UnitOfWork], clock: Clock, hold_off: timedelta, every: float
) -> None:
    """Sweep for silent screens forever (a background task of the server)."""
    while True:
        try:
            async with uows() as uow:
                await sweep_offline(uow, clock, hold_off)
        except Exception:  # a failed sweep must not end the loop
            log.exception("offline sweep failed")
        await asyncio.sleep(every)
