"""Waiting on a condition without making speed part of the verdict.

A test waits for *something to happen*; the deadline only stops a hung
test. It is long on purpose (a loaded 2-core CI machine can be ten times
slower than a laptop): a passing run never depends on being fast, and a
duration is a benchmark's figure, never an assertion.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import text

if TYPE_CHECKING:
    from tests.support.env import Env

HANG_GUARD_S = 60.0  # only a hung test ever waits this long
POLL_S = 0.01


async def until(
    condition: Callable[[], bool | Awaitable[bool]],
    what: str = "the condition",
    within: float = HANG_GUARD_S,
) -> None:
    """Return once ``condition()`` (sync or async) holds; fail only if it
    never does within the hang guard."""
    deadline = time.monotonic() + within
    while True:
        held = condition()
        if inspect.isawaitable(held):
            held = await held
        if held:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} never held (hang guard: {within:.0f} s)")
        await asyncio.sleep(POLL_S)


class Naps:
    """A ``sleep`` for a loop under test: each call waits until the test
    lets it go (``wake``), so the test decides when the loop's time passes
    and moves its fake clock by what the loop asked for."""

    def __init__(self) -> None:
        self._asked: asyncio.Queue[tuple[float, asyncio.Future[None]]] = asyncio.Queue()

    async def __call__(self, seconds: float) -> None:
        woken: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        await self._asked.put((seconds, woken))
        await woken

    async def next(self, within: float = HANG_GUARD_S) -> tuple[float, asyncio.Future[None]]:
        """The loop's next nap: (seconds asked, its waker); the loop waits
        until ``waker.set_result(None)``."""
        async with asyncio.timeout(within):
            return await self._asked.get()


async def blocked_behind(env: Env, writer: asyncio.Task[Any]) -> bool:
    """True once ``writer`` waits for another transaction's lock (on
    PostgreSQL, seen in pg_stat_activity; SQLite lets one writer in at a
    time, so there it is queued anyway) — or has ended (its result says how)."""
    if writer.done():
        return True  # it failed or finished: the assertions say which
    if env.backend == "sqlite":
        return True  # one writer at a time: it runs after the first commits
    async with env.container.engine.connect() as conn:
        waiting = await conn.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
        )
    return bool(waiting)
