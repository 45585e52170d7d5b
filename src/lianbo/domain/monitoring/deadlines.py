"""When each online screen's hold-off runs out: the sweeper's alarm clock.

A screen is offline once it has been unseen for longer than the hold-off.
Sweeping on a fixed tick adds up to one tick to every offline alarm (a
screen dying just after a heartbeat was alarmed up to hold-off + 1 s later);
knowing the earliest ``last_seen + hold_off`` lets the sweeper wake at that
instant instead (like a player computing its next re-evaluation). This is
only a schedule: the store still decides who is offline.
"""

from __future__ import annotations

import heapq
from datetime import datetime, timedelta

# Offline means unseen for *more* than the hold-off, so the sweep that can
# find a screen offline comes just after its deadline; a millisecond also
# absorbs a timer that fires a hair early or a wall clock slewed by NTP.
MARGIN = timedelta(milliseconds=1)


class OfflineDeadlines:
    """Last-seen times of online screens, earliest deadline first.

    A heap of (deadline, terminal) with lazy deletion: a newer heartbeat
    pushes a new entry and the old one is skipped when it reaches the top,
    so a heartbeat costs O(log n) and the heap holds about one entry per
    heartbeat within the last hold-off.
    """

    def __init__(self, hold_off: timedelta) -> None:
        self.hold_off = hold_off
        self._seen: dict[str, datetime] = {}
        self._heap: list[tuple[datetime, str]] = []

    def __len__(self) -> int:
        return len(self._seen)

    def seen(self, terminal_id: str, at: datetime) -> None:
        """The screen was seen (and is online) at ``at``; never moves back."""
        known = self._seen.get(terminal_id)
        if known is not None and known >= at:
            return
        self._seen[terminal_id] = at
        heapq.heappush(self._heap, (at + self.hold_off, terminal_id))

    def last_seen(self, terminal_id: str) -> datetime | None:
        return self._seen.get(terminal_id)

    def expire(self, now: datetime) -> list[str]:
        """Forget the screens whose hold-off ran out before ``now``; their ids.

        Called after the store's sweep at ``now``: each of them was either
        marked offline there, or is not online by the store (retired,
        re-enrolled) or was seen by someone else (another process); the store
        knows, and this schedule stops waking for them. A screen that beat
        since keeps its newer deadline.
        """
        gone = []
        while self._heap and self._heap[0][0] < now:
            deadline, terminal_id = heapq.heappop(self._heap)
            known = self._seen.get(terminal_id)
            if known is not None and known + self.hold_off == deadline:
                del self._seen[terminal_id]
                gone.append(terminal_id)
        return gone

    def next_deadline(self) -> datetime | None:
        """The earliest ``last_seen + hold_off`` among the screens known online."""
        while self._heap:
            deadline, terminal_id = self._heap[0]
            known = self._seen.get(terminal_id)
            if known is not None and known + self.hold_off == deadline:
                return deadline
            heapq.heappop(self._heap)  # superseded by a later heartbeat, or dropped
        return None

    def wake_at(self, now: datetime, longest: timedelta) -> datetime:
        """When the sweeper should next run: just after the earliest deadline,
        but no later than ``longest`` from now (screens this process did not
        see beat, e.g. through another process, are swept at that pace)."""
        latest = now + longest
        deadline = self.next_deadline()
        return latest if deadline is None else max(now, min(latest, deadline + MARGIN))
