"""The one place that picks concrete adapters and wires them together."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from lianbo.adapters.anchors import FileAnchorLog, anchor_sinks, signature_check
from lianbo.adapters.blobs import LocalBlobStore
from lianbo.adapters.db.engine import make_engine, make_sessionmaker
from lianbo.adapters.db.uow import UnitOfWork
from lianbo.adapters.key_store import Held, SharedKeys, parse_private_keys
from lianbo.adapters.keys import KeyRing
from lianbo.config import Settings
from lianbo.domain.backup import StoreDump
from lianbo.domain.ports import (
    AnchorLog,
    AnchorSink,
    Clock,
    FleetChannel,
    JobQueue,
    Leadership,
    SystemClock,
)
from lianbo.services import presence
from lianbo.services.auth import LoginLimiter
from lianbo.services.cluster_health import ClusterHealth
from lianbo.services.manifest_cache import ManifestCache
from lianbo.services.monitoring import Monitor
from lianbo.services.readiness import Check, Readiness


@dataclass
class Container:
    """Everything a request or a command needs, built once per process."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    keys: SharedKeys  # public keys in the store; private halves from settings or data dir
    limiter: LoginLimiter
    blobs: LocalBlobStore
    fleet: FleetChannel
    monitor: Monitor  # heartbeat batches, alarms, webhooks (services/monitoring.py)
    anchors: AnchorLog  # the audit chain's signed heads, outside the database
    anchor_copies: list[AnchorSink]  # and copies of them elsewhere (webhook, syslog)
    cluster_health: ClusterHealth  # leader, bus, jobs, screens offline: for /metrics
    leader: Leadership  # who runs the singleton duties (ADR 0011); is_leader → lianbo_leader
    # Background jobs on assets (QC); run by the worker (services.ingest.run_worker).
    jobs: JobQueue
    manifest_cache: ManifestCache = field(default_factory=ManifestCache)
    # /healthz: named readiness checks besides the store ("bus", …), facts it
    # reports without judging ("leader", …), and the last verdicts (logged once).
    health_checks: dict[str, Check] = field(default_factory=dict)
    health_info: dict[str, Callable[[], object]] = field(default_factory=dict)
    readiness: Readiness = field(default_factory=Readiness)

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.sessions)

    async def forget_terminal(self, terminal_id: str, *, revoked: bool) -> None:
        """A terminal was edited, or its token revoked (retired, re-enrolled):
        forget what this process caches about it and end its live connection,
        so the change holds at once rather than when a cache expires."""
        self.manifest_cache.forget_terminal(terminal_id)
        await self.fleet.drop(terminal_id, revoked=revoked)

    @property
    def token_ttl(self) -> timedelta:
        return timedelta(minutes=self.settings.token_ttl_minutes)

    @property
    def session_ttl(self) -> timedelta:
        return timedelta(minutes=self.settings.session_ttl_minutes)

    async def close(self) -> None:
        await self.jobs.close()
        await self.engine.dispose()


def bootstrap(settings: Settings, *, clock: Clock | None = None) -> Container:
    """Build the container; connects to nothing until first used."""
    engine = make_engine(settings.effective_database_url)
    sessions = make_sessionmaker(engine)
    clock = clock or SystemClock()
    monitor = Monitor(settings, clock, lambda: UnitOfWork(sessions))
    keys = _keys(settings, sessions)
    leader = leadership(settings)
    jobs = _job_queue(settings)
    return Container(
        settings=settings,
        engine=engine,
        sessions=sessions,
        clock=clock,
        keys=keys,
        limiter=LoginLimiter(settings.login_failures_per_minute),
        blobs=LocalBlobStore(settings.media_dir),
        manifest_cache=ManifestCache(terminal_ttl_s=settings.terminal_cache_minutes * 60.0),
        fleet=_fleet(settings, sessions, clock, monitor, leader),
        monitor=monitor,
        anchors=FileAnchorLog(settings.audit_anchor_path, signature_check(keys.cached_public)),
        anchor_copies=anchor_sinks(settings.audit_anchor_targets),
        # The bus joins here when it exists (ClusterHealth's protocols).
        cluster_health=ClusterHealth(clock, leader=leader, jobs=jobs),
        leader=leader,
        jobs=jobs,
        # A follower is as ready as the leader: leadership is a fact, not a check.
        health_info={"leader": lambda: leader.is_leader},
    )


def _job_queue(settings: Settings) -> JobQueue:
    """In-process on SQLite (one process); procrastinate on PostgreSQL (ADR 0012)."""
    if settings.is_sqlite:
        from lianbo.adapters.jobs.inprocess import InProcessJobQueue

        return InProcessJobQueue()
    from lianbo.adapters.jobs.postgres import PostgresJobQueue

    return PostgresJobQueue(
        settings.effective_database_url,
        lease_seconds=settings.job_lease_seconds,
        retries=settings.job_retries,
        backoff_seconds=settings.job_backoff_seconds,
    )


def _keys(settings: Settings, sessions: async_sessionmaker[AsyncSession]) -> SharedKeys:
    """Signing keys: public in the store; private from the signing-key
    setting, or (none given) files in the data dir."""
    configured = None
    if settings.signing_key_configured:

        def configured() -> Held:
            return parse_private_keys(settings.signing_keys_text() or "")

    return SharedKeys(lambda: UnitOfWork(sessions), KeyRing(settings.keys_dir), configured)


def leadership(settings: Settings) -> Leadership:
    """PostgreSQL: an advisory lock on a connection of its own; SQLite: always."""
    from lianbo.adapters.db import leadership as seats

    if settings.is_sqlite:
        return seats.SingleProcess()
    connect = seats.postgres_connect(settings.effective_database_url)
    return seats.PostgresLeadership(connect, settings.leader_retry_seconds)


def _fleet(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    monitor: Monitor,
    leader: Leadership,
) -> FleetChannel:
    """The channel to terminals: the built-in hub, or an MQTT broker."""
    from lianbo.adapters.fleet.directory import DbDirectory

    directory = DbDirectory(lambda: UnitOfWork(sessions))
    heartbeat = settings.heartbeat_seconds

    async def seen(terminals: list[tuple[str, datetime]]) -> None:
        async with UnitOfWork(sessions) as uow:
            await presence.record_heartbeats(uow, terminals)

    if settings.fleet == "mqtt":
        from lianbo.adapters.fleet.mqtt import Broker, MqttFleet

        broker = Broker(
            settings.mqtt_host, settings.mqtt_port, settings.mqtt_username, settings.mqtt_password
        )
        return MqttFleet(
            broker,
            directory,
            seen,
            clock,
            heartbeat_seconds=heartbeat,
            heartbeats=monitor,
            share_group=settings.mqtt_share_group,
            # Every process hears presence; the leader alone writes it.
            reports_presence=lambda: leader.is_leader,
        )
    from lianbo.adapters.fleet.hub import WebSocketHub

    return WebSocketHub(directory, seen, clock, heartbeat_seconds=heartbeat, heartbeats=monitor)


def store_dump(settings: Settings) -> StoreDump:
    """The backup/restore adapter for the configured store (ADR 0007)."""
    if settings.is_sqlite:
        from lianbo.adapters.db.backup_sqlite import SqliteDump

        return SqliteDump(settings.sqlite_path)
    from lianbo.adapters.db.backup_postgres import PostgresDump

    return PostgresDump(settings.effective_database_url)
