"""The monitoring background job of a server process (``run``).

It flushes queued heartbeats (and latest screenshots) every
``presence.FLUSH_S`` or as soon as a batch is full, sweeps for silent
screens when the earliest hold-off runs out (offline alarms), enforces
play-log retention hourly, stamps this run alive every ``outages.ALIVE_S``
and delivers webhooks. It starts by recording the run (and the outage
before it); every screen then gets one hold-off before it is judged
offline. While it runs, the
``Monitor`` batches; without it (a CLI command, tests without a lifespan)
everything is written as it comes.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import structlog

from lianbo.services import outages, presence
from lianbo.services.monitoring import RETENTION_EVERY_S, SWEEP_NAP_S, SWEEP_S, Monitor

if TYPE_CHECKING:
    from lianbo.bootstrap import Container

log = structlog.get_logger()

Sleep = Callable[[float], Awaitable[None]]


async def _every(seconds: float, work: Callable[[], Any], what: str) -> None:
    while True:
        try:
            await work()
        except Exception:  # one failed round must not end the loop
            log.exception(f"{what} failed")
        await asyncio.sleep(seconds)


async def _sweeper(monitor: Monitor, sleep: Sleep) -> None:
    while True:
        try:
            await monitor.sweep()
        except Exception:  # one failed round must not end the loop
            log.exception("offline sweep failed")
        delay = (monitor.next_sweep_at() - monitor.clock.now()).total_seconds()
        await sleep(min(SWEEP_S, max(SWEEP_NAP_S, delay)))


async def _flusher(monitor: Monitor) -> None:
    while True:
        # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow the
        # shutdown's cancel (player/waits.py says why).
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(presence.FLUSH_S):
                await monitor.batcher.full.wait()
        try:
            await monitor.flush()
        except Exception:  # keep flushing; the batch is lost, the screens beat again
            log.exception("heartbeat flush failed")


async def run(container: Container, *, sweeper_sleep: Sleep = asyncio.sleep) -> None:
    """The monitoring background job of the server (see the module docstring).

    ``sweeper_sleep`` is how the sweeper waits for its next deadline: a test
    that moves a fake clock passes one that moves it (the deadline is on the
    monitor's clock, the wait would otherwise be on real time).
    """
    monitor = container.monitor
    try:
        await monitor.start()  # ready: the outage before this run, the hold-off from now
    except Exception:  # monitoring runs on without the record (the hold-off still holds)
        log.exception("server run not recorded")
    monitor.batching = True
    tasks = [
        asyncio.create_task(_flusher(monitor)),
        asyncio.create_task(_sweeper(monitor, sweeper_sleep)),
        asyncio.create_task(_every(RETENTION_EVERY_S, monitor.enforce_retention, "retention")),
        asyncio.create_task(_every(outages.ALIVE_S, monitor.stamp_alive, "alive stamp")),
        asyncio.create_task(monitor.notifier.run()),
    ]
    try:
        await asyncio.gather(*tasks)
    finally:
        monitor.batching = False
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        with contextlib.suppress(Exception):
            await asyncio.shield(monitor.flush())
        with contextlib.suppress(Exception):  # a clean stop: the outage starts now
            await asyncio.shield(monitor.stamp_alive())
