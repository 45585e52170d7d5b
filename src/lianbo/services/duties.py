"""Singleton duties: run while this process leads, stopped when it does not.

``run`` campaigns for leadership (``domain.ports.Leadership``) and starts
every duty each time this process becomes leader; when it stops leading
(its database session lost, or another process won) the duties are
cancelled, and started afresh if it leads again. A duty is a long-running
coroutine factory (a loop that never returns on its own); one that does
end or fails is logged and left ended until the next election. ADR 0011.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import structlog

from lianbo.domain.ports import Leadership

log = structlog.get_logger()

Duty = Callable[[], Awaitable[None]]


async def run(leader: Leadership, duties: Mapping[str, Duty]) -> None:
    """Campaign and run ``duties`` (name → factory) while leading, until cancelled."""
    campaign = asyncio.create_task(leader.campaign())
    try:
        while True:
            await leader.until(True)
            await _lead(leader, duties)
    finally:
        campaign.cancel()
        await asyncio.gather(campaign, return_exceptions=True)


async def _lead(leader: Leadership, duties: Mapping[str, Duty]) -> None:
    """Run the duties until this process stops leading (or is cancelled)."""
    tasks = {asyncio.create_task(_duty(name, duty)): name for name, duty in duties.items()}
    try:
        await leader.until(False)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def _duty(name: str, duty: Duty) -> None:
    try:
        await duty()
    except asyncio.CancelledError:
        raise
    except Exception:  # a broken duty must not take the others down
        log.exception("singleton duty failed", duty=name)
    else:
        log.warning("singleton duty ended", duty=name)


async def every(seconds: float, work: Callable[[], Awaitable[Any]], what: str) -> None:
    """Run ``work`` every ``seconds`` until cancelled: the shape of most
    duties. One failed round is logged and must not end the loop."""
    while True:
        try:
            await work()
        except Exception:
            log.exception(f"{what} failed")
        await asyncio.sleep(seconds)
