"""Safe-broadcast monitoring (安全播出监测) at run time: the ``Monitor``.

One ``Monitor`` per server process (``container.monitor``) holds what
monitoring keeps in memory: the heartbeat batcher and rate limiter, the
alarm desk (the alarm book), the webhook outbox's sender (``webhooks``:
its deliveries are in the store, ADR 0016), the callers' caches (terminal
facts, programmes, tracks: ``monitor_callers``), and ingest counters for
``/metrics``. The server's
background job that flushes, sweeps and delivers is
``services.monitoring_jobs.run``.

Without that job (a CLI command, tests without a server lifespan)
heartbeats are written one by one as they come, so nothing waits for a
flusher that does not exist.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import structlog

from lianbo.adapters.db.uow import UnitOfWork
from lianbo.config import Settings
from lianbo.domain.errors import RateLimited
from lianbo.domain.monitoring.alarms import AlarmType, Observation
from lianbo.domain.monitoring.deadlines import OfflineDeadlines
from lianbo.domain.monitoring.history import Outage
from lianbo.domain.monitoring.records import Screenshot
from lianbo.domain.ports import Clock
from lianbo.services import outages, playlog, presence, screenshots
from lianbo.services.alarm_desk import AlarmDesk
from lianbo.services.alarms import observation
from lianbo.services.monitor_callers import Caller, Callers
from lianbo.services.play_writes import PlayWrites
from lianbo.services.presence import Beat, HeartbeatBatcher, RateLimiter
from lianbo.services.programme import Programme
from lianbo.services.programme_history import ManifestHistory
from lianbo.services.status_alarms import status_observations
from lianbo.services.webhook_outbox import WebhookOutbox

if TYPE_CHECKING:
    from lianbo.services.context import Context

log = structlog.get_logger()

SWEEP_S = 1.0  # the longest the sweeper sleeps (it wakes at the earliest deadline)
SWEEP_NAP_S = 0.001  # the shortest (a timer that fires early sleeps again)
RETENTION_EVERY_S = 3600.0


@dataclass
class Counters:
    """Ingest counters since start (Prometheus counters)."""

    heartbeats: int = 0
    heartbeats_limited: int = 0
    playlog_rows: int = 0
    playlog_rejected: int = 0
    screenshots: int = 0
    verdicts: dict[str, int] = field(default_factory=dict)


class Monitor:
    """Monitoring state of one server process (see the module docstring)."""

    def __init__(self, settings: Settings, clock: Clock, uows: Callable[[], UnitOfWork]) -> None:
        self.settings = settings
        self.clock = clock
        self.uows = uows
        self.webhooks = WebhookOutbox(uows, clock, settings)
        self.desk = AlarmDesk(uows, clock, self.webhooks)
        self.batcher = HeartbeatBatcher()
        self.limiter = RateLimiter(
            interval_s=min(presence.MIN_INTERVAL_S, settings.heartbeat_seconds / 2)
        )
        self.counters = Counters()
        self.batching = False
        # When to sweep: from the heartbeats ingested here, and the store's
        # online screens on the first sweep (after a restart).
        self.deadlines = OfflineDeadlines(self.hold_off)
        self._deadlines_loaded = False
        # This server run (``start``): screens get one hold-off from ready.
        self.run_id = outages.new_run_id()
        self.ready_at: datetime | None = None
        self.started = asyncio.Event()  # the run is ready and batching (monitoring_jobs)
        # When this process last became leader (``lead``): the sweeper's
        # hold-off counts from it too, like from a restart (ADR 0011).
        self.led_at: datetime | None = None
        self.callers = Callers(settings, uows)
        self.history = ManifestHistory()  # superseded manifests loaded for play-log checks
        self._shots: dict[str, Screenshot] = {}  # latest per terminal, as stored
        self.play_writes = PlayWrites(uows)  # group commits
        self.latest = screenshots.LatestShots()  # their rows, batched like heartbeats
        self._writes: set[asyncio.Task[None]] = set()  # heartbeats written without a flusher

    @property
    def hold_off(self) -> timedelta:
        return timedelta(seconds=self.settings.offline_hold_off_seconds)

    # -------------------------------------------------------------- heartbeats

    async def heartbeat(self, terminal_id: str, status: dict[str, Any] | None) -> datetime:
        """Admit one heartbeat (429 when flooding); queued or written at once."""
        beat = self._admit(terminal_id, status)
        if self.batching:
            self.batcher.add(beat)
        else:
            await self.ingest([beat])
        return beat.at

    def beat(self, terminal_id: str, status: dict[str, Any] | None) -> datetime:
        """Admit one heartbeat from a push channel without waiting for it to
        be stored (``RateLimited`` when flooding): a socket's reader must not
        block on the database."""
        beat = self._admit(terminal_id, status)
        if self.batching:
            self.batcher.add(beat)
        else:  # no flusher (tests without a lifespan): write it in the background
            task = asyncio.create_task(self.ingest([beat]))
            self._writes.add(task)
            task.add_done_callback(self._writes.discard)
        return beat.at

    async def settle(self) -> None:
        """Wait for heartbeats admitted by ``beat`` to be stored."""
        if self.batching:
            await self.flush()
        while self._writes:
            await asyncio.gather(*self._writes, return_exceptions=True)

    def _admit(self, terminal_id: str, status: dict[str, Any] | None) -> Beat:
        now = self.clock.now()
        if not self.limiter.admit(terminal_id, now):
            self.counters.heartbeats_limited += 1
            raise RateLimited(
                "too many heartbeats from this terminal", retry_after=self.limiter.retry_after()
            )
        self.counters.heartbeats += 1
        return Beat(terminal_id, now, status)

    async def flush(self) -> int:
        """Write what the batcher holds; how many heartbeats."""
        beats = self.batcher.take()
        if beats:
            await self.ingest(beats)
        await self.latest.flush(self.uows)  # never raises: its rows are only the wall's
        return len(beats)

    async def ingest(self, beats: Sequence[Beat]) -> None:
        async with self.uows() as uow:
            done = await presence.ingest(uow, beats)
        for terminal_id, at in done.seen.items():
            self.deadlines.seen(terminal_id, at)
        if done.came_back:  # the leader may have opened their offline alarms
            await self.desk.adopt([s.id for s in done.came_back], AlarmType.OFFLINE)
        found: list[Observation] = []
        for screen in done.screens.values():
            if self.desk.live(screen.id, AlarmType.OFFLINE):
                found.append(observation(screen.id, AlarmType.OFFLINE, False, screen.tier))
        for beat in beats:
            sender = done.screens.get(beat.terminal_id)
            if sender is not None and beat.status is not None:
                found += status_observations(sender, beat.status, self.settings)
        await self.desk.observe(found, {s.id: s.region for s in done.screens.values()})

    async def start(self) -> Outage | None:
        """This server run is ready: store it (and the outage before it, if
        any); from now on every screen gets one hold-off before it is judged
        offline."""
        self.ready_at = self.clock.now()  # the hold-off holds even if the record fails
        async with self.uows() as uow:
            return await outages.start_run(uow, self.clock, self.run_id, self.ready_at)

    async def stamp_alive(self) -> None:
        """This run is alive now (the next start measures an outage from it)."""
        if self.ready_at is not None:
            async with self.uows() as uow:
                await outages.stamp_alive(uow, self.run_id, self.clock.now())

    def lead(self) -> None:
        """This process has just become the leader (the sweeper's process):
        what the sweeper keeps in memory is rebuilt from the store, which is
        the truth (another process led until now), and every screen gets
        one hold-off from now before it is judged offline."""
        self.led_at = self.clock.now()
        self.deadlines = OfflineDeadlines(self.hold_off)
        self._deadlines_loaded = False
        self.desk.forget()

    def _ready(self) -> datetime | None:
        """Since when the sweeper may judge screens: the later of this run's
        ready time and its takeover (None: neither, the plain rule)."""
        known = [at for at in (self.ready_at, self.led_at) if at is not None]
        return max(known) if known else None

    async def sweep(self) -> list[str]:
        """Mark silent screens offline and open their ``offline`` alarms."""
        now, ready = self.clock.now(), self._ready()
        async with self.uows() as uow:
            if not self._deadlines_loaded:
                for terminal_id, at in (await presence.online_last_seen(uow)).items():
                    # seen by this run at the earliest when it was ready
                    self.deadlines.seen(terminal_id, max(at, ready) if ready else at)
                self._deadlines_loaded = True
            gone = await presence.sweep(uow, self.clock, self.hold_off, now=now, ready=ready)
        self.deadlines.expire(now)  # the store decided those; it stays the truth
        found = [
            observation(
                s.id, AlarmType.OFFLINE, True, s.tier, {"hold_off_s": self.hold_off.total_seconds()}
            )
            for s in gone
        ]
        await self.desk.observe(found, {s.id: s.region for s in gone})
        return [s.id for s in gone]

    def next_sweep_at(self) -> datetime:
        """When the sweeper wakes: just after the earliest deadline, at most
        ``SWEEP_S`` from now (screens seen by others are found at that pace)."""
        return self.deadlines.wake_at(self.clock.now(), timedelta(seconds=SWEEP_S))

    # ----------------------------------------------------- play logs, shots

    async def playlog(
        self, container: Context, caller: Caller, entries: list[Any]
    ) -> playlog.Outcome:
        """Check, store and roll up a batch; alarms from what it showed."""
        now = self.clock.now()
        plan = await self.callers.programme(container, caller.audience_key)
        async with self.uows() as uow:
            assessed = await playlog.assess(
                uow, caller.screen, plan, entries, now, history=(self.history, caller.audience_key)
            )
        await self.play_writes.write(assessed.records, assessed.rollups)
        outcome = assessed.outcome
        self.counters.playlog_rows += outcome.accepted
        self.counters.playlog_rejected += len(outcome.rejected)
        await self.desk.observe(outcome.observations, {caller.screen.id: caller.screen.region})
        return outcome

    async def screenshot(
        self,
        container: Context,
        caller: Caller,
        data: bytes,
        taken_at: datetime,
        source: str,
        *,
        stub: bool = False,
    ) -> dict[str, Any]:
        """Verify one screenshot; the verdict and what was expected."""
        now = self.clock.now()
        media_type = screenshots.check_upload(data, taken_at, source, now, stub=stub)
        plan = await self._in_force_at(
            caller.audience_key,
            await self.callers.programme(container, caller.audience_key),
            taken_at,
        )
        showing = plan.showing(taken_at) if plan is not None else None
        track = await self.callers.track(showing.asset_id) if showing is not None else None
        previous, quad = self._shots.get(caller.screen.id), None
        if previous is None or source == "camera":  # else no database on this path
            async with self.uows() as uow:
                if previous is None:  # first shot since start: the stored latest, if any
                    previous = await uow.screenshots.screenshot(caller.screen.id)
                quad = await screenshots.quad_of(uow, caller.screen.id, source)
        judged = await screenshots.judge(
            container.blobs,
            caller.screen,
            plan,
            track,
            previous,
            (data, media_type, taken_at, source),
            now,
            stub=stub,
            quad=quad,
        )
        await self.latest.put(judged.screenshot, self.uows, batching=self.batching)
        self._shots[caller.screen.id] = judged.screenshot  # the next shot's "previous" (frozen)
        self.counters.screenshots += 1
        verdict = judged.result.verdict.value
        self.counters.verdicts[verdict] = self.counters.verdicts.get(verdict, 0) + 1
        opened = await self.desk.observe(
            judged.observations, {caller.screen.id: caller.screen.region}
        )
        return {
            "verdict": verdict,
            "distance": judged.result.distance,
            "expected": judged.expected,
            "sha256": judged.screenshot.sha256,
            "alarms": [a.id for a in opened if a.state == "open"],
        }

    async def _in_force_at(
        self, audience_key: str, current: Programme | None, moment: datetime
    ) -> Programme | None:
        """The audience's programme in force at ``moment`` (ADR 0006)."""
        in_force = self.history.in_force(audience_key, current)
        if in_force.missing(moment):  # a shot from before the current version
            async with self.uows() as uow:
                in_force = await self.history.reaching(uow, audience_key, current, moment)
        return in_force.at(moment)

    # ------------------------------------------------------------ retention

    async def enforce_retention(self) -> int:
        """Delete play-log rows past ``playlog_retention_days``, and with them the
        manifest versions in force then and the server runs alive then."""
        cutoff = self.clock.now() - timedelta(days=self.settings.playlog_retention_days)
        async with self.uows() as uow:
            gone = await uow.monitoring.forget_plays(cutoff)
            versions = await uow.history.forget_versions(cutoff)
            await uow.history.forget_runs(cutoff)
            await uow.commit()
        if gone or versions:
            log.info("monitoring records past retention deleted", rows=gone, versions=versions)
        return gone
