"""The one place that picks concrete adapters and wires them together."""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from lianbo.adapters.anchors import FileAnchorLog, anchor_sinks, signature_check
from lianbo.adapters.blobs import LocalBlobStore
from lianbo.adapters.cap.dsig import CapSigner
from lianbo.adapters.db.engine import make_engine, make_sessionmaker
from lianbo.adapters.db.uow import UnitOfWork
from lianbo.adapters.edge import edge_caches
from lianbo.adapters.fleet import figures
from lianbo.adapters.key_store import Held, SharedKeys, parse_private_keys
from lianbo.adapters.keys import KeyRing
from lianbo.config import Settings
from lianbo.domain.backup import StoreDump
from lianbo.domain.ports import (
    AnchorLog,
    AnchorSink,
    BlobStore,
    Clock,
    EdgeCaches,
    FleetChannel,
    JobQueue,
    Leadership,
    SystemClock,
)
from lianbo.services import alert_greeting, presence
from lianbo.services.alert_acks import AckBatcher, committed
from lianbo.services.alert_outline import JurisdictionOutline
from lianbo.services.auth import LoginLimiter
from lianbo.services.cluster_health import ClusterHealth
from lianbo.services.commands import CommandAcks
from lianbo.services.manifest_cache import ManifestCache
from lianbo.services.messagebus import MessageBus
from lianbo.services.monitoring import Monitor
from lianbo.services.outlines import RegionOutlines
from lianbo.services.readiness import Check, Readiness

if TYPE_CHECKING:
    from lianbo.adapters.fleet.directory import DbDirectory
    from lianbo.adapters.fleet.presence import Seen


@dataclass
class Container:
    """Everything a request or a command needs, built once per process."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    keys: SharedKeys  # public keys in the store; private halves from settings or data dir
    limiter: LoginLimiter
    blobs: BlobStore
    fleet: FleetChannel
    monitor: Monitor  # heartbeat batches, alarms, webhooks (services/monitoring.py)
    anchors: AnchorLog  # the audit chain's signed heads, outside the database
    anchor_copies: list[AnchorSink]  # and copies of them elsewhere (webhook, syslog)
    bus: MessageBus  # events after commit, to this process's handlers and to the others
    cluster_health: ClusterHealth  # leader, bus, jobs, screens offline: for /metrics
    leader: Leadership  # who runs the singleton duties (ADR 0011); is_leader → lianbo_leader
    # Background jobs on assets (QC); run by the worker (services.ingest.run_worker).
    jobs: JobQueue
    acks: AckBatcher  # screens' alert acks, written in group commits (ADR 0017)
    edges: EdgeCaches  # caching edges in front of the media, purged on revocation
    manifest_cache: ManifestCache = field(default_factory=ManifestCache)
    # Signs the CAP we serve, when the control centre has a certificate (ADR 0027).
    cap_signer: CapSigner | None = None
    # Region boundaries, for warning about alert shapes reaching past the
    # issuer's jurisdiction (services/alert_outline.py): loaded, else shipped.
    outlines: JurisdictionOutline = field(default_factory=RegionOutlines)
    # /healthz: named readiness checks besides the store ("bus", …), facts it
    # reports without judging ("leader", …), and the last verdicts (logged once).
    health_checks: dict[str, Check] = field(default_factory=dict)
    health_info: dict[str, Callable[[], object]] = field(default_factory=dict)
    readiness: Readiness = field(default_factory=Readiness)

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
        await self.acks.close()  # waiting acks are written while the store is there
        await self.jobs.close()
        await self.engine.dispose()


def bootstrap(settings: Settings, *, clock: Clock | None = None) -> Container:
    """Build the container; connects to nothing until first used."""
    engine = make_engine(settings.effective_database_url)
    sessions = make_sessionmaker(engine)
    clock = clock or SystemClock()
    bus = MessageBus(new_process_id(), remote=not settings.is_sqlite)
    monitor = Monitor(settings, clock, lambda: UnitOfWork(sessions, bus))
    keys = _keys(settings, sessions)
    leader = leadership(settings)
    jobs = _job_queue(settings)
    # one batcher for the HTTP acks and those that come up the fleet channel
    alert_acks = AckBatcher(committed(lambda: UnitOfWork(sessions, bus), clock))
    container = Container(
        settings=settings,
        engine=engine,
        sessions=sessions,
        clock=clock,
        keys=keys,
        limiter=LoginLimiter(settings.login_failures_per_minute),
        blobs=blob_store(settings),
        manifest_cache=ManifestCache(terminal_ttl_s=settings.terminal_cache_minutes * 60.0),
        fleet=_fleet(settings, sessions, clock, monitor, leader, alert_acks),
        monitor=monitor,
        anchors=FileAnchorLog(settings.audit_anchor_path, signature_check(keys.cached_public)),
        anchor_copies=anchor_sinks(settings.audit_anchor_targets),
        bus=bus,
        # The bus is reported only when there is one to lose (PostgreSQL).
        cluster_health=ClusterHealth(
            clock, leader=leader, bus=bus if bus.remote else None, jobs=jobs
        ),
        leader=leader,
        jobs=jobs,
        acks=alert_acks,
        edges=edge_caches(settings.edge_purge_urls),
        cap_signer=_cap_signer(settings),
        # A follower is as ready as the leader: leadership is a fact, not a check.
        health_info={"leader": lambda: leader.is_leader},
    )
    _wire_bus(container)
    if settings.fleet != "hub":  # /healthz: the broker (and NATS's callout) is there
        container.health_checks["fleet"] = lambda: figures.broker_ready(container.fleet)
    if settings.media_store == "s3":
        container.health_checks["media"] = container.blobs.check  # /healthz: the bucket answers
    return container


def _cap_signer(settings: Settings) -> CapSigner | None:
    """Our XML-DSig identity; the settings checked the pair already."""
    pems = settings.cap_signing_pems()
    return CapSigner(*pems) if pems is not None else None


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


def new_process_id() -> str:
    """Host, pid and a random part: unique per process start (a restarted
    process with the same pid must not take its predecessor's events as its own)."""
    return f"{socket.gethostname()[:40]}-{os.getpid()}-{secrets.token_hex(3)}"


def blob_store(settings: Settings) -> BlobStore:
    """Media in the local directory (default) or S3-compatible storage (ADR 0019)."""
    if settings.media_store == "local":
        return LocalBlobStore(settings.media_dir)
    from lianbo.adapters.blob_cache import BlobCache
    from lianbo.adapters.blobs_s3 import S3BlobStore, s3_client

    secret = settings.s3_secret_access_key
    client = s3_client(
        endpoint_url=settings.s3_endpoint_url,
        region=settings.s3_region,
        access_key_id=settings.s3_access_key_id,
        secret_access_key=secret.get_secret_value() if secret else None,
        addressing_style=settings.s3_addressing_style,
    )
    return S3BlobStore(
        client,
        settings.s3_bucket,
        BlobCache(settings.media_cache, settings.media_cache_bytes),
        prefix=settings.s3_prefix,
        multipart_threshold=settings.s3_multipart_threshold_bytes,
    )


def _wire_bus(container: Container) -> None:
    """The handlers, and with PostgreSQL the listener that hears other processes."""
    from lianbo.services import handlers  # imports services that import this module

    bus = container.bus
    handlers.register(bus, container, pushes_everywhere=container.settings.fleet == "hub")
    if bus.remote:
        from lianbo.adapters.bus.postgres import PostgresListener

        bus.listener = PostgresListener(
            container.settings.effective_database_url, bus.received, bus.revalidate
        )
        container.health_checks["bus"] = lambda: bus.connected  # /healthz: ready only when heard


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
    alert_acks: AckBatcher,
) -> FleetChannel:
    """The channel to terminals: the built-in hub, or an MQTT broker."""
    from lianbo.adapters.fleet.directory import Batcher, DbDirectory

    directory = DbDirectory(lambda: UnitOfWork(sessions))
    heartbeat = settings.heartbeat_seconds
    acks = CommandAcks(lambda: UnitOfWork(sessions))  # to the store: any process may be asked

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
            acks=acks,
            alert_acks=alert_acks,
            share_group=settings.mqtt_share_group,
            # Every process hears presence; the leader alone writes it.
            reports_presence=lambda: leader.is_leader,
        )
    if settings.fleet == "nats":
        return _nats_fleet(settings, directory, seen, clock, monitor, leader, acks, alert_acks)
    from lianbo.adapters.fleet.hub import WebSocketHub

    async def greet(terminal_ids: list[str]) -> dict[str, dict[str, Any]]:
        async with UnitOfWork(sessions) as uow:
            return await alert_greeting.greetings(uow, terminal_ids, clock.now())

    greetings = Batcher(greet)  # screens connecting together are answered together

    return WebSocketHub(
        directory,
        seen,
        clock,
        heartbeat_seconds=heartbeat,
        heartbeats=monitor,
        acks=acks,
        alert_acks=alert_acks,
        greeting=greetings.get,
    )


def _nats_fleet(
    settings: Settings,
    directory: DbDirectory,
    seen: Seen,
    clock: Clock,
    monitor: Monitor,
    leader: Leadership,
    acks: CommandAcks,
    alert_acks: AckBatcher,
) -> FleetChannel:
    """The channel on a NATS cluster; this process also answers its auth callout."""
    from lianbo.adapters.fleet.mqtt import Broker
    from lianbo.adapters.fleet.nats_auth import AuthCallout, Login
    from lianbo.adapters.fleet.nats_fleet import NatsFleet
    from lianbo.adapters.fleet.nats_jwt import Signer

    def login(user: str, password: SecretStr | None) -> Login:
        return Login(user, password.get_secret_value() if password else "")

    own = login(settings.nats_user, settings.nats_password)
    callout = AuthCallout(
        settings.nats_urls,
        login(settings.nats_callout_user, settings.nats_callout_password),
        Signer(settings.nats_issuer_seed_text().encode()),
        directory,
        account=settings.nats_account,
        session_seconds=settings.nats_session_hours * 3600,
    )
    return NatsFleet(
        settings.nats_urls,
        own,
        login(settings.nats_system_user, settings.nats_system_password),
        Broker(settings.mqtt_host, settings.mqtt_port, own.user, own.password),
        directory,
        seen,
        clock,
        callout=callout,
        heartbeat_seconds=settings.heartbeat_seconds,
        heartbeats=monitor,
        acks=acks,
        alert_acks=alert_acks,
        share_group=settings.mqtt_share_group,
        reports_presence=lambda: leader.is_leader,
    )


def store_dump(settings: Settings) -> StoreDump:
    """The backup/restore adapter for the configured store (ADR 0007)."""
    if settings.is_sqlite:
        from lianbo.adapters.db.backup_sqlite import SqliteDump

        return SqliteDump(settings.sqlite_path)
    from lianbo.adapters.db.backup_postgres import PostgresDump

    return PostgresDump(settings.effective_database_url)
