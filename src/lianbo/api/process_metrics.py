"""The ``/metrics`` page: every series labelled with the process that served it.

Every process of a deployment is scraped on its own (never through the load
balancer), so each series carries ``process="<LIANBO_PROCESS_NAME>"``: two
processes on one host stay apart, and a figure survives a restart on a new
port. Store figures (terminals, alarms, screens offline) are the same from
every process; the shipped rules take their ``max`` across processes.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from prometheus_client import CollectorRegistry, Gauge, generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError

from lianbo.adapters.fleet.figures import fleet_figures
from lianbo.api.fleet_metrics import FleetMetrics
from lianbo.api.metrics import REQUESTS_REGISTRY, monitoring_metrics
from lianbo.bootstrap import Container
from lianbo.services.cluster_health import ClusterFigures
from lianbo.services.context import UnitOfWork

PROCESS_LABEL = "process"
# What a lost store raises on the way up: the driver's errors come wrapped in
# SQLAlchemy's; a refused or dropped connection may surface as OSError, a
# stalled one as a timeout.
STORE_ERRORS = (SQLAlchemyError, OSError, TimeoutError)


class ProcessLabelled(Collector):
    """The collectors' metrics with ``process`` added to every sample."""

    def __init__(self, process: str, collectors: Sequence[Collector]) -> None:
        self._process = process
        self._collectors = collectors

    def collect(self) -> Iterable[Metric]:
        for collector in self._collectors:
            for family in collector.collect():
                labelled = copy.copy(family)
                labelled.samples = [
                    sample._replace(labels={PROCESS_LABEL: self._process, **sample.labels})
                    for sample in family.samples
                ]
                yield labelled


def cluster_metrics(figures: ClusterFigures, *, store_up: bool = True) -> CollectorRegistry:
    """Store reachability, leadership, bus, job backlog and screens offline by
    province as gauges; a source this process does not have is left out, not
    reported as 0."""
    registry = CollectorRegistry()
    Gauge(
        "lianbo_store_up",
        "1 when this process could read the store for /metrics",
        registry=registry,
    ).set(1 if store_up else 0)
    Gauge("lianbo_leader", "1 while this process runs the singleton duties", registry=registry).set(
        1 if figures.leader else 0
    )
    if figures.bus is not None:
        connected = Gauge(
            "lianbo_bus_connected", "1 while the event bus is connected", registry=registry
        )
        connected.set(1 if figures.bus.connected else 0)
        Gauge(
            "lianbo_bus_lag_seconds",
            "Slowest commit-to-delivery delay of events from other processes in the last minute",
            registry=registry,
        ).set(figures.bus.lag_seconds)
    if figures.jobs_pending is not None:
        Gauge("lianbo_jobs_pending", "Jobs waiting to start", registry=registry).set(
            figures.jobs_pending
        )
    labels = ["region", "region_name"]
    offline = Gauge(
        "lianbo_screens_offline",
        "Screens in service now offline, by province",
        labels,
        registry=registry,
    )
    in_service = Gauge(
        "lianbo_screens_in_service",
        "Screens in service (seen at least once, not retired), by province",
        labels,
        registry=registry,
    )
    for row in figures.regions:
        offline.labels(row.region, row.name).set(row.offline)
        in_service.labels(row.region, row.name).set(row.in_service)
    return registry


async def metrics_text(container: Container, uow: UnitOfWork) -> bytes:
    """The whole ``/metrics`` body for this process. Without the store it
    still answers, with ``lianbo_store_up 0`` and what the process knows by
    itself: a scrape that failed would say "process down", which is not so."""
    health = container.cluster_health
    monitor = container.monitor  # ingest counters and webhooks; alarms from the store
    try:
        stored, alarms = await _store_metrics(uow)
        stored.append(await _webhook_metrics(uow, container.clock.now()))
        figures = await health.figures(uow)
        error: BaseException | None = None
    except STORE_ERRORS as lost:
        stored, alarms, figures, error = [], [], health.process_figures(), lost
    up = health.store_answered(error)
    watched = monitoring_metrics(monitor.counters, monitor.webhooks, alarms)
    collectors = [*stored, watched, REQUESTS_REGISTRY, cluster_metrics(figures, store_up=up)]
    fleet = fleet_figures(container.fleet)
    if fleet is not None:
        collectors.append(FleetMetrics(fleet))
    return generate_latest(ProcessLabelled(container.settings.process_name, collectors))


async def _webhook_metrics(uow: UnitOfWork, now: datetime) -> CollectorRegistry:
    oldest = await uow.webhooks.oldest_pending()
    waited = max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0
    return webhook_metrics(await uow.webhooks.counts(), waited)


def webhook_metrics(counts: Mapping[str, int], waited: float) -> CollectorRegistry:
    """The alarm webhooks' outbox (ADR 0016): deliveries pending and dead,
    and how long the oldest pending one has waited (no sender, or a
    receiver down)."""
    registry = CollectorRegistry()
    deliveries = Gauge(
        "lianbo_webhook_deliveries",
        "Alarm webhook deliveries in the store by state",
        ["state"],
        registry=registry,
    )
    for state, count in counts.items():
        if state != "sent":  # sent rows are only kept for the retention
            deliveries.labels(state=state).set(count)
    Gauge(
        "lianbo_webhook_oldest_pending_seconds",
        "How long the oldest pending alarm webhook has waited",
        registry=registry,
    ).set(waited)
    return registry


async def _store_metrics(uow: UnitOfWork) -> tuple[list[Collector], list[tuple[str, str, int]]]:
    """Terminal counts by tier and status, the audit chain's length, open alarms."""
    registry = CollectorRegistry()
    terminals = Gauge(
        "lianbo_terminals",
        "Live terminals by tier and status",
        ["tier", "status"],
        registry=registry,
    )
    for tier, status, count in await uow.terminals.counts_by(""):
        terminals.labels(tier=tier, status=status).set(count)
    audit_seq, _ = await uow.audit.head()
    Gauge("lianbo_audit_entries", "Entries in the audit chain", registry=registry).set(audit_seq)
    return [registry], await uow.alarms.open_counts()
