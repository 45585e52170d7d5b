"""A connected screen counts as seen: report that to the store in batches.

One statement per batch rather than one transaction per message: screens
that just connected are reported within a second, and every connected
screen once per heartbeat interval, so the offline sweeper (which waits
``offline_after_missed`` intervals) never takes a connected screen down.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Collection

import structlog

log = structlog.get_logger()

Seen = Callable[[list[str]], Awaitable[None]]
CHUNK = 2000


class PresenceReporter:
    def __init__(
        self,
        seen: Seen,
        connected: Callable[[], Collection[str]],
        every: float,
        *,
        fresh_every: float = 1.0,
    ) -> None:
        self._seen = seen
        self._connected = connected
        self._every = every
        self._fresh_every = fresh_every
        self._fresh: set[str] = set()

    def arrived(self, terminal_id: str) -> None:
        self._fresh.add(terminal_id)

    async def flush(self, *, everyone: bool = False) -> int:
        """Report the newly arrived (or all connected) terminals now."""
        if everyone:
            ids = list(self._connected())
            self._fresh.clear()
        else:
            ids, self._fresh = list(self._fresh), set()
        for start in range(0, len(ids), CHUNK):
            await self._seen(ids[start : start + CHUNK])
        return len(ids)

    async def run(self) -> None:
        """Report forever (a task the channel starts and cancels)."""
        last_full = time.monotonic()
        while True:
            await asyncio.sleep(self._fresh_every)
            everyone = time.monotonic() - last_full >= self._every
            try:
                await self.flush(everyone=everyone)
            except Exception:  # the store may be busy or down; try again next round
                log.exception("fleet presence report failed")
            if everyone:
                last_full = time.monotonic()
