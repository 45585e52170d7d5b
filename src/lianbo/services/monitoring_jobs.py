"""The monitoring background jobs of a server process.

Every process (``run_local``) flushes its queued heartbeats (and latest
screenshots) every ``presence.FLUSH_S`` or as soon as a batch is full,
stamps its run alive every ``outages.ALIVE_S``. It starts by recording
the run (and the outage before it). The leader alone (``lead``, a
singleton duty: ADR 0011) sends the alarm webhooks queued in the store by
any process (ADR 0016), sweeps for silent screens when the earliest
hold-off runs out (offline alarms) and enforces play-log retention
hourly; every screen gets one hold-off from the later
of the run's start and the takeover before it is judged offline. While
``run_local`` runs, the
``Monitor`` batches; without it (a CLI command, tests without a lifespan)
everything is written as it comes.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import structlog

from lianbo.services import outages, presence
from lianbo.services.duties import every
from lianbo.services.monitoring import RETENTION_EVERY_S, SWEEP_NAP_S, SWEEP_S, Monitor

if TYPE_CHECKING:
    from lianbo.services.context import Context

log = structlog.get_logger()

Sleep = Callable[[float], Awaitable[None]]


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


async def run(container: Context, *, sweeper_sleep: Sleep = asyncio.sleep) -> None:
    """All of monitoring in one process: ``run_local`` and ``lead`` together
    (a test, or a process that knows it is the only one)."""
    await asyncio.gather(run_local(container), lead(container, sweeper_sleep=sweeper_sleep))


async def run_local(container: Context) -> None:
    """What every process does for its own screens: record this run, flush
    the heartbeats it admitted, stamp it alive."""
    monitor = container.monitor
    try:
        await monitor.start()  # ready: the outage before this run, the hold-off from now
    except Exception:  # monitoring runs on without the record (the hold-off still holds)
        log.exception("server run not recorded")
    monitor.batching = True
    monitor.started.set()  # the leader's sweeper may begin (``lead``)
    tasks = [
        asyncio.create_task(_flusher(monitor)),
        asyncio.create_task(every(outages.ALIVE_S, monitor.stamp_alive, "alive stamp")),
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


async def lead(container: Context, *, sweeper_sleep: Sleep = asyncio.sleep) -> None:
    """The leader's part (a singleton duty, ADR 0011): the alarm webhooks'
    sender (ADR 0016), the offline sweeper and play-log retention. Starts
    from the store (``Monitor.lead``), so every screen gets one hold-off
    from the takeover.

    ``sweeper_sleep`` is how the sweeper waits for its next deadline: a test
    that moves a fake clock passes one that moves it (the deadline is on the
    monitor's clock, the wait would otherwise be on real time).
    """
    monitor = container.monitor
    await asyncio.gather(monitor.webhooks.run(), _sweeps(monitor, sweeper_sleep))


async def _sweeps(monitor: Monitor, sweeper_sleep: Sleep) -> None:
    await monitor.started.wait()  # the run's ready time bounds the first sweeps
    monitor.lead()
    await asyncio.gather(
        _sweeper(monitor, sweeper_sleep),
        every(RETENTION_EVERY_S, monitor.enforce_retention, "retention"),
    )
