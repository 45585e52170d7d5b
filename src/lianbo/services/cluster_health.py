"""What ``/metrics`` tells about this process's place in the cluster.

Leadership, the event bus and the job queue are parts that a deployment may
not have (the embedded default has no bus to lose and is always the
leader): each is a small protocol here, and ``bootstrap`` passes the ones
that exist. Screens offline by top-level region are a store figure, the same
from every process; Prometheus scrapes every process, so the query is cached
a few seconds (on the injected clock) to keep N scrapers from costing N scans.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

import structlog

from lianbo.adapters.db.uow import UnitOfWork
from lianbo.domain.ports import Clock

log = structlog.get_logger()

# Long enough that a burst of scrapes (several Prometheus servers, every
# process) reads the store once; short against the alert rules' ``for:``.
OFFLINE_CACHE = timedelta(seconds=5)


class Leadership(Protocol):
    """Whether this process holds the singleton duties (``container.leader``)."""

    @property
    def is_leader(self) -> bool: ...


class BusHealth(Protocol):
    """The event bus between processes (``container.bus``) as seen from here."""

    @property
    def connected(self) -> bool:
        """True while this process listens for other processes' events."""
        ...

    @property
    def lag_seconds(self) -> float:
        """The largest commit-to-delivery delay (seconds) of the events from
        other processes received here in the last minute; 0 when none came.
        A window, not the latest event: one slow event long ago must not
        keep an alert firing, and a quiet bus is not a lagging one."""
        ...


class JobBacklog(Protocol):
    """The job queue (``container.jobs``): jobs waiting to start."""

    async def pending(self) -> int: ...


class InProcessJobs:
    """The embedded job queue: asset ids waiting for QC in this process."""

    def __init__(self, queue: asyncio.Queue[str]) -> None:
        self._queue = queue

    async def pending(self) -> int:
        """Assets queued and not yet taken by the ingest worker."""
        return self._queue.qsize()


@dataclass(frozen=True, slots=True)
class RegionScreens:
    """Screens in service (seen once, not retired) and offline in one
    top-level region (a province)."""

    region: str
    name: str
    in_service: int
    offline: int


@dataclass(frozen=True, slots=True)
class BusFigures:
    connected: bool
    lag_seconds: float


@dataclass(frozen=True, slots=True)
class ClusterFigures:
    """One scrape's worth; ``None`` where the source does not exist here."""

    leader: bool
    bus: BusFigures | None
    jobs_pending: int | None
    regions: tuple[RegionScreens, ...]


class ClusterHealth:
    """Collects the cluster figures for ``/metrics`` (``container.cluster_health``)."""

    def __init__(
        self,
        clock: Clock,
        *,
        leader: Leadership | None = None,
        bus: BusHealth | None = None,
        jobs: JobBacklog | None = None,
    ) -> None:
        self._clock = clock
        self._leader = leader
        self._bus = bus
        self._jobs = jobs
        self._regions: tuple[RegionScreens, ...] = ()
        self._read_at: datetime | None = None
        self._store_ok = True

    def process_figures(self) -> ClusterFigures:
        """What this process knows without the store: leadership and the bus."""
        bus = self._bus
        return ClusterFigures(
            # No leadership object: one process, which does every duty itself.
            leader=self._leader.is_leader if self._leader is not None else True,
            bus=BusFigures(bus.connected, bus.lag_seconds) if bus is not None else None,
            jobs_pending=None,
            regions=(),
        )

    async def figures(self, uow: UnitOfWork) -> ClusterFigures:
        """Every figure; ``uow`` is open (the request's) and only read. The
        job queue may live in the store, so it is read with it."""
        return replace(
            self.process_figures(),
            jobs_pending=await self._jobs.pending() if self._jobs is not None else None,
            regions=await self.offline_by_region(uow),
        )

    async def offline_by_region(self, uow: UnitOfWork) -> tuple[RegionScreens, ...]:
        """Screens in service and offline per province, at most ``OFFLINE_CACHE`` old."""
        now = self._clock.now()
        if self._read_at is not None and self._read_at <= now < self._read_at + OFFLINE_CACHE:
            return self._regions
        counts = await uow.terminals.offline_by_province()
        names = await uow.regions.many([code for code, _, _ in counts])
        self._regions = tuple(
            RegionScreens(code, names[code].name if code in names else code, in_service, offline)
            for code, in_service, offline in sorted(counts)
        )
        self._read_at = now
        return self._regions

    def store_answered(self, error: BaseException | None) -> bool:
        """Note whether ``/metrics`` could read the store (``error`` None) and
        log the change, once per transition rather than on every scrape.
        True when it answered."""
        ok = error is None
        if ok != self._store_ok:
            if ok:
                log.info("metrics: the store answers again")
            else:
                log.warning("metrics: the store does not answer", error=type(error).__name__)
        self._store_ok = ok
        return ok
