"""Whether a screen is there: heartbeats in, online/offline out.

Like Home Assistant's update coordinator, a transition is logged once when a
screen goes down and once when it comes back, never on every heartbeat; each
transition is also stored (``presence_log``) for uptime reports.

Heartbeats are ingested in batches: the route admits a heartbeat (rate
limit), queues it in the ``HeartbeatBatcher`` and answers at once; the
monitor's flusher writes a batch every ``FLUSH_S`` seconds (or as soon as
``MAX_BATCH`` are waiting) in one transaction: a few last-seen ``UPDATE``
statements (each screen is stamped with its own latest heartbeat, rounded
up within ``STAMP_S`` steps: one statement per step), one ``INSERT`` of
transitions, one replace of status reports.

Offline is found by ``sweep``; when to sweep is the monitor's schedule
(``domain.monitoring.deadlines``), fed from ``Ingested.seen`` and, after a
restart, from ``online_last_seen``. After a restart every screen gets one
hold-off from the moment the server was ready (``services.outages``).
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import structlog

from lianbo.adapters.db.uow import UnitOfWork
from lianbo.domain.monitoring.history import offline_cutoff
from lianbo.domain.monitoring.records import ScreenFacts
from lianbo.domain.ports import Clock
from lianbo.domain.terminals import Terminal, TerminalFilter, TerminalStatus

log = structlog.get_logger()

FLUSH_S = 0.5
MAX_BATCH = 5000  # stays under the bound-parameter limits of SQLite and asyncpg
MIN_INTERVAL_S = 2.0  # a terminal may send one heartbeat per this many seconds ...
BURST = 3  # ... after a burst of this many (a reconnect sends a few at once)
STAMP_S = 0.1  # a batched heartbeat is stored at most this much later than it came
LOAD_PAGE = 5000


@dataclass(frozen=True, slots=True)
class Beat:
    """One heartbeat as received: who, when (server time), what it said."""

    terminal_id: str
    at: datetime
    status: dict[str, Any] | None = None


@dataclass
class RateLimiter:
    """Token bucket per terminal: ``burst`` at once, then one per ``interval_s``.

    A flood from one terminal is refused (429) instead of being stored a
    thousand times; a well-behaved player (one per 30 s) never notices.
    """

    interval_s: float = MIN_INTERVAL_S
    burst: int = BURST
    _buckets: dict[str, tuple[float, datetime]] = field(default_factory=dict)

    def admit(self, terminal_id: str, now: datetime) -> bool:
        tokens, since = self._buckets.get(terminal_id, (float(self.burst), now))
        refill = max(0.0, (now - since).total_seconds()) / self.interval_s
        tokens = min(float(self.burst), tokens + refill)
        if tokens < 1.0:
            self._buckets[terminal_id] = (tokens, now)
            return False
        self._buckets[terminal_id] = (tokens - 1.0, now)
        return True

    def retry_after(self) -> int:
        return max(1, round(self.interval_s))


class HeartbeatBatcher:
    """Heartbeats waiting for the next flush."""

    def __init__(self, max_items: int = MAX_BATCH) -> None:
        self.max_items = max_items
        self.pending: list[Beat] = []
        self.full = asyncio.Event()

    def add(self, beat: Beat) -> None:
        self.pending.append(beat)
        if len(self.pending) >= self.max_items:
            self.full.set()

    def take(self) -> list[Beat]:
        """Everything waiting (at most ``max_items``), oldest first."""
        batch, self.pending = self.pending[: self.max_items], self.pending[self.max_items :]
        if len(self.pending) < self.max_items:
            self.full.clear()
        return batch


@dataclass(frozen=True, slots=True)
class Ingested:
    """What a batch changed: screens back online, facts of every sender, and
    the last-seen time stored for each sender that is online now."""

    came_back: list[ScreenFacts]
    screens: dict[str, ScreenFacts]
    seen: dict[str, datetime] = field(default_factory=dict)


def stamps(beats: Sequence[Beat]) -> dict[str, datetime]:
    """Each sender's last-seen time to store: its latest heartbeat, moved up
    to the latest heartbeat of the same ``STAMP_S`` step. Never earlier than
    the heartbeat (a screen is not called offline before its hold-off), at
    most ``STAMP_S`` later, and a 0.5 s batch shares about six stamps."""
    latest: dict[str, datetime] = {}
    for beat in beats:
        known = latest.get(beat.terminal_id)
        if known is None or beat.at > known:
            latest[beat.terminal_id] = beat.at
    steps: dict[int, datetime] = {}
    for at in latest.values():
        step = math.floor(at.timestamp() / STAMP_S)
        steps[step] = max(at, steps.get(step, at))
    return {t: steps[math.floor(at.timestamp() / STAMP_S)] for t, at in latest.items()}


async def ingest(uow: UnitOfWork, beats: Sequence[Beat]) -> Ingested:
    """Write a batch of heartbeats in one transaction."""
    seen = stamps(beats)
    if not seen:
        return Ingested([], {})
    await uow.terminals.lock(list(seen))  # one order for every process (no deadlocks)
    screens = await uow.monitoring.screens(list(seen))
    # Only the transaction that moves a screen online records it (two
    # processes may both have read it offline): presence_log stays single.
    moved = await uow.terminals.bring_online(
        [s.id for s in screens.values() if s.status in ("offline", "pending")]
    )
    groups: dict[datetime, list[str]] = {}
    for terminal_id, at in seen.items():
        groups.setdefault(at, []).append(terminal_id)
    for at, ids in groups.items():
        await uow.terminals.mark_seen(ids, at)
    came_back = [screens[t] for t in moved if t in screens]
    await uow.monitoring.add_transitions(
        [(s.id, s.region, s.tier, "online", seen[s.id]) for s in came_back]
    )
    await uow.reports.save([(b.terminal_id, b.at, b.status) for b in beats if b.status is not None])
    await uow.commit()
    for screen in came_back:
        log.info("terminal online", terminal_id=screen.id, name=screen.name)
    online = {t: at for t, at in seen.items() if t in screens and screens[t].status != "retired"}
    return Ingested(came_back, screens, online)


async def record_heartbeat(
    uow: UnitOfWork, clock: Clock, terminal: Terminal, status: dict[str, Any] | None = None
) -> datetime:
    """Mark the terminal seen now and keep its status report (unbatched);
    returns the server time for the reply."""
    now = clock.now()
    await ingest(uow, [Beat(terminal.id, now, status)])
    return now


async def record_heartbeats(uow: UnitOfWork, seen: list[tuple[str, datetime]]) -> None:
    """Many heartbeats without status, (terminal id, seen at), in one
    transaction (push channel presence)."""
    await ingest(uow, [Beat(terminal_id, at) for terminal_id, at in seen])


async def sweep(
    uow: UnitOfWork,
    clock: Clock,
    hold_off: timedelta,
    *,
    now: datetime | None = None,
    ready: datetime | None = None,
) -> list[ScreenFacts]:
    """Mark online terminals unseen for more than ``hold_off`` as offline;
    their facts. ``now`` defaults to the clock's. ``ready``: when this server
    run was ready; no screen is offline before one hold-off from it (a
    screen could not reach a server that was down: ADR 0006)."""
    now = now or clock.now()
    cutoff = offline_cutoff(now, hold_off, ready)
    if cutoff is None:
        return []
    gone = await uow.terminals.mark_unseen_offline(cutoff)
    screens = await uow.monitoring.screens(gone) if gone else {}
    await uow.monitoring.add_transitions(
        [(s.id, s.region, s.tier, "offline", now) for s in screens.values()]
    )
    await uow.commit()
    for terminal_id in gone:
        log.info("terminal offline", terminal_id=terminal_id)
    return [screens[t] for t in gone if t in screens]


async def online_last_seen(uow: UnitOfWork) -> dict[str, datetime]:
    """Every online terminal and when it was last seen, as stored (the
    sweeper's schedule after a restart)."""
    found: dict[str, datetime] = {}
    where = TerminalFilter(status=TerminalStatus.ONLINE)
    offset = 0
    while True:
        page, _ = await uow.terminals.search(where, limit=LOAD_PAGE, offset=offset)
        found |= {t.id: t.last_seen_at for t in page if t.last_seen_at is not None}
        if len(page) < LOAD_PAGE:
            return found
        offset += LOAD_PAGE


async def sweep_offline(uow: UnitOfWork, clock: Clock, hold_off: timedelta) -> list[str]:
    """``sweep`` answering ids only."""
    return [s.id for s in await sweep(uow, clock, hold_off)]


async def watch(
    uows: Callable[[], UnitOfWork], clock: Clock, hold_off: timedelta, every: float
) -> None:
    """Sweep for silent screens forever (without alarms; the server runs
    ``services.monitoring_jobs.run`` instead)."""
    while True:
        try:
            async with uows() as uow:
                await sweep_offline(uow, clock, hold_off)
        except Exception:  # a failed sweep must not end the loop
            log.exception("offline sweep failed")
        await asyncio.sleep(every)


# ------------------------------------------------------------------ uptime

STEPS = {"hour": timedelta(hours=1), "day": timedelta(days=1)}
MAX_BUCKETS = 1000


def _intervals(
    transitions: Sequence[tuple[str, datetime]], end: datetime
) -> list[tuple[datetime, datetime, bool]]:
    """(start, end, online) runs of one terminal from its transitions."""
    runs = []
    for (state, at), following in zip(transitions, [*transitions[1:], None], strict=True):
        until = following[1] if following is not None else end
        runs.append((at, until, state == "online"))
    return runs


def _overlap(a: datetime, b: datetime, c: datetime, d: datetime) -> float:
    return max(0.0, (min(b, d) - max(a, c)).total_seconds())


def uptime_series(
    transitions: Sequence[tuple[str, str, str, str, datetime]],
    start: datetime,
    end: datetime,
    step: timedelta,
    key_of: Callable[[str, str], str],
) -> list[dict[str, Any]]:
    """Uptime per (group, bucket): online seconds over known seconds.

    A screen's state is known from its first stored transition on; before
    that it counts for nothing (neither up nor down).
    """
    per_terminal: dict[str, list[tuple[str, datetime]]] = {}
    groups: dict[str, str] = {}
    for terminal_id, region, tier, state, at in transitions:
        per_terminal.setdefault(terminal_id, []).append((state, at))
        groups[terminal_id] = key_of(region, tier)
    buckets = []
    moment = start
    while moment < end:
        buckets.append((moment, min(end, moment + step)))
        moment += step
    totals: dict[tuple[str, int], list[float]] = {}
    for terminal_id, runs in per_terminal.items():
        for run_start, run_end, online in _intervals(runs, end):
            for index, (low, high) in enumerate(buckets):
                seconds = _overlap(run_start, run_end, low, high)
                if seconds:
                    cell = totals.setdefault((groups[terminal_id], index), [0.0, 0.0])
                    cell[1] += seconds
                    cell[0] += seconds if online else 0.0
    return [
        {
            "key": key,
            "at": buckets[index][0].isoformat(),
            "uptime": round(up / known, 4) if known else None,
            "online_s": round(up, 1),
            "known_s": round(known, 1),
        }
        for (key, index), (up, known) in sorted(totals.items())
    ]
