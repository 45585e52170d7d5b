"""Runs of a condition in time (black, frozen, silent) turned into segments."""

from __future__ import annotations

from lianbo.domain.media import Segment

_EPSILON = 1e-6  # float times at exactly the minimum duration still count


class RunTracker:
    """Collects runs at least ``min_s`` long from on/off observations in time order."""

    def __init__(self, min_s: float) -> None:
        self.min_s = min_s
        self._start: float | None = None
        self.segments: list[Segment] = []

    @property
    def running(self) -> bool:
        return self._start is not None

    def on(self, time_s: float) -> None:
        """The condition holds from ``time_s`` (no-op while a run is open)."""
        if self._start is None:
            self._start = time_s

    def off(self, time_s: float) -> None:
        """The condition stopped holding at ``time_s``."""
        if self._start is not None:
            if time_s - self._start >= self.min_s - _EPSILON:
                self.segments.append(Segment(round(self._start, 6), round(time_s, 6)))
            self._start = None

    def finish(self, end_s: float) -> tuple[Segment, ...]:
        """Close an open run at the end of the content; the segments found."""
        self.off(end_s)
        return tuple(self.segments)
