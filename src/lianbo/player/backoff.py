"""Retry pacing and up/down bookkeeping for the links to the server.

Exponential backoff with **full jitter** (delay uniform in
``[0, min(cap, base * 2**attempt)]``, as in the AWS architecture note):
when the control centre restarts, thousands of screens lose it in the same
second; fixed or merely exponential delays would bring them all back in the
same second too, and the reconnect storm would knock it over again.
"""

from __future__ import annotations

import logging
import random

log = logging.getLogger("lianbo.player")


class Backoff:
    """Delays for consecutive failures; ``reset`` after a success."""

    def __init__(
        self, base: float = 1.0, cap: float = 60.0, rng: random.Random | None = None
    ) -> None:
        if base <= 0 or cap < base:
            raise ValueError("backoff needs 0 < base <= cap")
        self.base = base
        self.cap = cap
        self.attempt = 0
        self._rng = rng or random.Random()

    def ceiling(self) -> float:
        """The largest delay the next failure may wait."""
        return min(self.cap, self.base * 2.0 ** min(self.attempt, 62))

    def next_delay(self) -> float:
        """The delay after one more failure (and count it)."""
        delay = self._rng.uniform(0, self.ceiling())
        self.attempt += 1
        return delay

    def reset(self) -> None:
        self.attempt = 0


class Link:
    """Whether a link works; logs once when it goes down and once when it is back
    (never on every failed retry), like Home Assistant's update coordinator."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.up: bool | None = None  # None: not tried yet
        self.error: str | None = None
        self.successes = 0
        self.failures = 0

    def ok(self) -> bool:
        """Record a success; True when the link just came back."""
        came_back = self.up is False
        if came_back:
            log.info("%s is back", self.name)
        self.up, self.error = True, None
        self.successes += 1
        return came_back

    def failed(self, error: str) -> None:
        if self.up is not False:
            log.warning("%s is unavailable: %s", self.name, error)
        self.up, self.error = False, error
        self.failures += 1
