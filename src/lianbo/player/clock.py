"""The player's clocks: its own, and its estimate of the server's.

Simulcast needs every screen to agree on "now" with the server, not with
its own crystal. Each time exchange (push ``time`` messages, heartbeat
replies) gives an offset and a round-trip time; a sample taken over a
short round trip bounds the error tightly (the error is at most RTT/2), so
the estimate is the median offset of the few samples with the shortest
round trips. Slow exchanges behind a busy link are simply outvoted.
"""

from __future__ import annotations

import statistics
import time
from collections import deque
from datetime import UTC, datetime
from typing import Protocol

from lianbo.protocol.messages import clock_offset


class Clock(Protocol):
    """The terminal's own clock (injectable, so tests can move time)."""

    def time(self) -> float:
        """Wall clock, Unix epoch seconds."""
        ...

    def monotonic(self) -> float:
        """Seconds that never go backwards (for timers)."""
        ...


class SystemClock:
    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()


class OffsetEstimator:
    """Server clock minus ours, from NTP-style exchanges."""

    def __init__(self, keep: int = 8, best: int = 4) -> None:
        self._samples: deque[tuple[float, float]] = deque(maxlen=keep)  # (rtt, offset)
        self._best = best

    def add(self, t0: float, server_time: float, t1: float) -> None:
        """One exchange: sent at ``t0``, answered ``server_time``, received at ``t1``."""
        rtt = t1 - t0
        if rtt < 0:
            return  # our clock stepped during the exchange: the sample means nothing
        self._samples.append((rtt, clock_offset(t0, server_time, t1)))

    @property
    def samples(self) -> int:
        return len(self._samples)

    @property
    def offset(self) -> float:
        """Seconds to add to our clock to read the server's (0 before any sample)."""
        if not self._samples:
            return 0.0
        best = sorted(self._samples)[: self._best]
        return statistics.median(offset for _, offset in best)


class ServerClock:
    """Our clock corrected by the estimated offset: the server's "now"."""

    def __init__(self, clock: Clock, estimator: OffsetEstimator | None = None) -> None:
        self.clock = clock
        self.estimator = estimator or OffsetEstimator()

    def timestamp(self) -> float:
        return self.clock.time() + self.estimator.offset

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp(), UTC)
