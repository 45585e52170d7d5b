"""The one place that picks concrete adapters and wires them together."""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
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
from lianbo.domain.ports import AnchorLog, AnchorSink, Clock, FleetChannel, SystemClock
from lianbo.services import presence
from lianbo.services.auth import LoginLimiter
from lianbo.services.cluster_health import ClusterHealth, InProcessJobs
from lianbo.services.manifest_cache import ManifestCache
from lianbo.services.messagebus import MessageBus
from lianbo.services.monitoring import Monitor


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
    bus: MessageBus  # events after commit, to this process's handlers and to the others
    cluster_health: ClusterHealth  # leader, bus, jobs, screens offline: for /metrics
    # Asset ids waiting for QC; the ingest worker (a server background job) drains it.
    ingest_queue: asyncio.Queue[str] = field(default_factory=asyncio.Queue)
    manifest_cache: ManifestCache = field(default_factory=ManifestCache)

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.sessions, self.bus)

    @property
    def process_id(self) -> str:
        """This process, unique per start (the origin of the events it commits)."""
        return self.bus.process_id

    @property
    def token_ttl(self) -> timedelta:
        return timedelta(minutes=self.settings.token_ttl_minutes)

    @property
    def session_ttl(self) -> timedelta:
        return timedelta(minutes=self.settings.session_ttl_minutes)

    async def close(self) -> None:
        await self.engine.dispose()


def bootstrap(settings: Settings, *, clock: Clock | None = None) -> Container:
    """Build the container; connects to nothing until first used."""
    engine = make_engine(settings.effective_database_url)
    sessions = make_sessionmaker(engine)
    clock = clock or SystemClock()
    bus = MessageBus(new_process_id(), remote=not settings.is_sqlite)
    monitor = Monitor(settings, clock, lambda: UnitOfWork(sessions, bus))
    ingest_queue: asyncio.Queue[str] = asyncio.Queue()
    keys = _keys(settings, sessions)
    container = Container(
        settings=settings,
        engine=engine,
        sessions=sessions,
        clock=clock,
        keys=keys,
        limiter=LoginLimiter(settings.login_failures_per_minute),
        blobs=LocalBlobStore(settings.media_dir),
        manifest_cache=ManifestCache(terminal_ttl_s=settings.terminal_cache_minutes * 60.0),
        fleet=_fleet(settings, sessions, clock, monitor),
        monitor=monitor,
        anchors=FileAnchorLog(settings.audit_anchor_path, signature_check(keys.cached_public)),
        anchor_copies=anchor_sinks(settings.audit_anchor_targets),
        bus=bus,
        # Leadership joins here when it exists (ClusterHealth's protocols); the
        # bus only when there is one to lose (several processes, PostgreSQL).
        cluster_health=ClusterHealth(
            clock, bus=bus if bus.remote else None, jobs=InProcessJobs(ingest_queue)
        ),
        ingest_queue=ingest_queue,
    )
    _wire_bus(container)
    return container


def new_process_id() -> str:
    """Host, pid and a random part: unique per process start (a restarted
    process with the same pid must not take its predecessor's events as its own)."""
    return f"{socket.gethostname()[:40]}-{os.getpid()}-{secrets.token_hex(3)}"


def _wire_bus(container: Container) -> None:
    """The handlers, and with PostgreSQL the listener that hears other processes."""
    from lianbo.services import handlers  # imports services that import this module

    bus = container.bus
    handlers.register(bus, container, pushes_everywhere=container.settings.fleet != "mqtt")
    if bus.remote:
        from lianbo.adapters.bus.postgres import PostgresListener

        bus.listener = PostgresListener(
            container.settings.effective_database_url, bus.received, bus.revalidate
        )


def _keys(settings: Settings, sessions: async_sessionmaker[AsyncSession]) -> SharedKeys:
    """Signing keys: public in the store; private from the signing-key
    setting, or (none given) files in the data dir."""
    configured = None
    if settings.signing_key_configured:

        def configured() -> Held:
            return parse_private_keys(settings.signing_keys_text() or "")

    return SharedKeys(lambda: UnitOfWork(sessions), KeyRing(settings.keys_dir), configured)


def _fleet(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    monitor: Monitor,
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
