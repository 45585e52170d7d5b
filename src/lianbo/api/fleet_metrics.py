"""The fleet channel's series on ``/metrics``: the broker connection, what
screens sent that was refused, and the logins this process decided.

Counters are this process's own since it started (``process`` label, added
by ``process_metrics``); every known reason and outcome is there from the
start at 0, so ``rate()`` and ``increase()`` see the first refusal.
"""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from lianbo.adapters.fleet.figures import LOGIN_OUTCOMES, FleetFigures
from lianbo.adapters.fleet.inbox import REFUSALS


class FleetMetrics(Collector):
    """``FleetFigures`` as Prometheus families."""

    def __init__(self, figures: FleetFigures) -> None:
        self._figures = figures

    def collect(self) -> Iterable[Metric]:
        figures = self._figures
        if figures.connected is not None:
            yield GaugeMetricFamily(
                "lianbo_fleet_connected",
                "1 while this process is connected to the screens' broker"
                " (and, on NATS, answers its auth callout)",
                value=1 if figures.connected else 0,
            )
        refused = CounterMetricFamily(
            "lianbo_fleet_messages_refused",
            "Messages from screens refused by this process (dropped, the sender kept), by reason",
            labels=["reason"],
        )
        for reason in sorted({*REFUSALS, *figures.refused}):
            refused.add_metric([reason], figures.refused.get(reason, 0))
        yield refused
        if figures.logins is not None:
            logins = CounterMetricFamily(
                "lianbo_fleet_logins",
                "Screens' logins decided by this process (hub socket or NATS auth callout),"
                " by outcome",
                labels=["outcome"],
            )
            for outcome in sorted({*LOGIN_OUTCOMES, *figures.logins}):
                logins.add_metric([outcome], figures.logins.get(outcome, 0))
            yield logins
