"""asyncio helpers every server layer may use (no I/O of their own)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

CANCEL_AGAIN_S = 0.5


async def cancel_all(tasks: Iterable[asyncio.Future[Any]], again_s: float = CANCEL_AGAIN_S) -> None:
    """Cancel ``tasks`` and wait until every one has ended.

    One cancel is not always enough on Python 3.11: ``asyncio.wait_for``
    (under ``asyncpg.connect``, psycopg's and procrastinate's listeners)
    drops a cancel that arrives as the awaited thing completes (gh-86296),
    and the task then runs on. So a task still running is cancelled again
    every ``again_s`` until it ends. Results and exceptions are discarded.
    """
    pending = {task for task in tasks if not task.done()}
    while pending:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=again_s)
