"""Unit of work: one session, one transaction, every repository on it."""

from __future__ import annotations

from collections.abc import Iterable
from types import TracebackType
from typing import Protocol

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from lianbo.adapters.db.repos.alarms import AlarmRepository
from lianbo.adapters.db.repos.alert_deliveries import DeliveryRepository
from lianbo.adapters.db.repos.alerts import AlertRepository
from lianbo.adapters.db.repos.asset_pages import AssetPageReads
from lianbo.adapters.db.repos.assets import AssetRepository
from lianbo.adapters.db.repos.audit import AuditRepository
from lianbo.adapters.db.repos.cap_feeds import CapFeedRepository
from lianbo.adapters.db.repos.cap_senders import CapSenderRepository
from lianbo.adapters.db.repos.commands import CommandRepository
from lianbo.adapters.db.repos.history import HistoryRepository
from lianbo.adapters.db.repos.idempotency import IdempotencyRepository
from lianbo.adapters.db.repos.login_failures import LoginFailureRepository
from lianbo.adapters.db.repos.monitoring import MonitoringRepository
from lianbo.adapters.db.repos.outlines import OutlineRepository
from lianbo.adapters.db.repos.programming import ProgrammingRepository
from lianbo.adapters.db.repos.regions import RegionRepository
from lianbo.adapters.db.repos.reports import ReportRepository
from lianbo.adapters.db.repos.screenshots import ScreenshotRepository
from lianbo.adapters.db.repos.signing_keys import SigningKeyRepository
from lianbo.adapters.db.repos.terminals import TerminalRepository
from lianbo.adapters.db.repos.uploads import UploadRepository
from lianbo.adapters.db.repos.users import TokenRepository, UserRepository
from lianbo.adapters.db.repos.webhook_deliveries import WebhookDeliveryRepository
from lianbo.domain.events import Event

CHANNEL = "lianbo_events"  # the PostgreSQL NOTIFY channel every process listens on
_NOTIFY = text("SELECT pg_notify('lianbo_events', :envelope)")


class EventBus(Protocol):
    """Where committed events go (``services/messagebus.py``)."""

    def envelopes(self, events: Iterable[Event]) -> list[str]:
        """What to send other processes inside the transaction ([] if nothing)."""
        ...

    async def handle(self, events: Iterable[Event]) -> None:
        """Run the handlers of events that just committed."""
        ...


class UnitOfWork:
    """``async with uow:`` opens a transaction; ``commit()`` keeps it.

    Leaving the block without commit rolls back, so a failed request
    changes nothing. Events recorded with ``record`` are handed to the bus
    after a successful commit, and dropped by a rollback: a side effect
    happens if and only if the change it follows was kept.
    """

    session: AsyncSession
    regions: RegionRepository
    outlines: OutlineRepository
    users: UserRepository
    tokens: TokenRepository
    terminals: TerminalRepository
    audit: AuditRepository
    assets: AssetRepository
    uploads: UploadRepository
    programming: ProgrammingRepository
    reports: ReportRepository
    monitoring: MonitoringRepository
    history: HistoryRepository
    alarms: AlarmRepository
    alerts: AlertRepository
    deliveries: DeliveryRepository
    login_failures: LoginFailureRepository
    signing_keys: SigningKeyRepository
    idempotency: IdempotencyRepository
    commands: CommandRepository
    webhooks: WebhookDeliveryRepository
    cap_senders: CapSenderRepository
    cap_feeds: CapFeedRepository

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], bus: EventBus | None = None
    ) -> None:
        self._sessions = sessions
        self._bus = bus
        self._events: list[Event] = []

    def record(self, event: Event) -> None:
        """Something happened in this transaction; handled once it commits."""
        self._events.append(event)

    async def __aenter__(self) -> UnitOfWork:
        self.session = self._sessions()
        self.regions = RegionRepository(self.session)
        self.outlines = OutlineRepository(self.session)  # admin-loaded (ADR 0026)
        self.users = UserRepository(self.session)
        self.tokens = TokenRepository(self.session)
        self.terminals = TerminalRepository(self.session)
        self.audit = AuditRepository(self.session)
        self.assets = AssetRepository(self.session)
        self.asset_pages = AssetPageReads(self.session)  # batch reads for page grids
        self.uploads = UploadRepository(self.session)
        self.programming = ProgrammingRepository(self.session)
        self.reports = ReportRepository(self.session)
        self.monitoring = MonitoringRepository(self.session)
        self.history = HistoryRepository(self.session)  # manifest versions, server runs
        self.screenshots = ScreenshotRepository(self.session)
        self.alarms = AlarmRepository(self.session)
        self.alerts = AlertRepository(self.session)
        self.deliveries = DeliveryRepository(self.session)
        self.login_failures = LoginFailureRepository(self.session)
        self.signing_keys = SigningKeyRepository(self.session)
        self.idempotency = IdempotencyRepository(self.session)  # ADR 0015
        self.commands = CommandRepository(self.session)  # sent to screens, and their acks
        self.webhooks = WebhookDeliveryRepository(self.session)  # the alarm webhooks' outbox
        self.cap_senders = CapSenderRepository(self.session)  # trusted signers (ADR 0027)
        self.cap_feeds = CapFeedRepository(self.session)  # upstream CAP sources
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._events.clear()
        try:
            await self.session.rollback()
        finally:
            await self.session.close()

    async def commit(self) -> None:
        """Keep the transaction; then its events go to their handlers. With
        PostgreSQL the envelopes for other processes are sent inside it
        (``pg_notify`` is delivered only when the transaction commits)."""
        recorded, self._events = self._events, []
        if recorded and self._bus is not None:
            for envelope in self._bus.envelopes(recorded):
                await self.session.execute(_NOTIFY, {"envelope": envelope})
        await self.session.commit()
        if recorded and self._bus is not None:
            await self._bus.handle(recorded)

    async def refresh_statistics(self) -> None:
        """ANALYZE after bulk changes, so the planner picks the ordered index
        for pages and the covering index for counts (SQLite has no autovacuum
        to do it for us)."""
        await self.session.execute(text("ANALYZE"))
        await self.session.commit()
