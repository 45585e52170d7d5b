"""A connected screen counts as seen: report that to the store in batches.

One statement per batch rather than one transaction per message: screens
that just connected are reported within a second, and every connected
screen once per heartbeat interval, so the offline sweeper (which waits
``offline_after_missed`` intervals) never takes a live screen down.

Seen *when*: the last time anything came from the screen, where the
transport knows it (the raw socket's ``heard``: messages, pongs), else now.
A screen that lost power leaves a half-open socket behind until the
keepalive drops it; stamping it "now" until then would push its offline
alarm past the hold-off.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Collection
from datetime import datetime, timedelta

import structlog

from lianbo.domain.ports import Clock

log = structlog.get_logger()

Seen = Callable[[list[tuple[str, datetime]]], Awaitable[None]]  # (terminal id, seen at)
Heard = Callable[[str], float | None]  # time.monotonic() of the last frame, if known
CHUNK = 2000


def _unknown(terminal_id: str) -> float | None:
    return None


class PresenceReporter:
    def __init__(
        self,
        seen: Seen,
        connected: Callable[[], Collection[str]],
        every: float,
        clock: Clock,
        *,
        heard: Heard = _unknown,
        fresh_every: float = 1.0,
    ) -> None:
        self._seen = seen
        self._connected = connected
        self._clock = clock
        self._heard = heard
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
        seen = self._stamped(ids)
        for start in range(0, len(seen), CHUNK):
            await self._seen(seen[start : start + CHUNK])
        return len(ids)

    def _stamped(self, ids: list[str]) -> list[tuple[str, datetime]]:
        now, mono = self._clock.now(), time.monotonic()
        stamped = []
        for terminal_id in ids:
            heard = self._heard(terminal_id)
            ago = mono - heard if heard is not None and heard < mono else 0.0
            stamped.append((terminal_id, now - timedelta(seconds=ago)))
        return stamped

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
