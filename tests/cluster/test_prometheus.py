"""The shipped Prometheus config and alerting rules, checked by promtool.

``promtool test rules`` feeds series to the rules and asserts which alerts
fire, with their labels and both languages' text (deploy/prometheus/
rules_test.yml). promtool comes with Debian's ``prometheus`` package
(scripts/install-services); without it these skip, or fail in CI.
"""

from __future__ import annotations

import re

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from lianbo.adapters.fleet.figures import FleetFigures
from lianbo.api.fleet_metrics import FleetMetrics
from lianbo.api.process_metrics import cluster_metrics, webhook_metrics
from lianbo.services.cluster_health import BusFigures, ClusterFigures, RegionScreens
from tests.support.metrics import PROMETHEUS_DIR, promtool, samples


def test_the_scrape_config_is_valid_with_its_target_files() -> None:
    checked = promtool("check", "config", "prometheus.yml")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "WARNING" not in checked.stdout + checked.stderr  # a target file missing


def test_the_alerting_rules_are_valid() -> None:
    checked = promtool("check", "rules", "rules.yml")
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_rules_fire_on_the_series_they_are_meant_for_and_only_those() -> None:
    tested = promtool("test", "rules", "rules_test.yml")
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_the_rules_use_only_metrics_lianbo_serves() -> None:
    every_source = ClusterFigures(
        leader=True,
        bus=BusFigures(connected=True, lag_seconds=0.0),
        jobs_pending=0,
        regions=(RegionScreens("51", "四川省", 1, 0),),
    )
    served = {s.name for s in samples(generate_latest(cluster_metrics(every_source)).decode())}
    outbox = webhook_metrics({"pending": 0, "dead": 0}, 0.0)
    served |= {s.name for s in samples(generate_latest(outbox).decode())}
    fleet = CollectorRegistry()
    fleet.register(FleetMetrics(FleetFigures(connected=True, refused={}, logins={})))
    served |= {s.name for s in samples(generate_latest(fleet).decode())}
    rules = (PROMETHEUS_DIR / "rules.yml").read_text(encoding="utf-8")
    used = set(re.findall(r"\blianbo_[a-z_]+", rules))
    assert used and used <= served, used - served


@pytest.mark.parametrize("annotation", ["summary", "description"])
def test_every_alert_speaks_english_and_chinese(annotation: str) -> None:
    rules = (PROMETHEUS_DIR / "rules.yml").read_text(encoding="utf-8")
    alerts = rules.count("- alert: ")
    assert rules.count(f" {annotation}: ") == alerts
    assert rules.count(f" {annotation}_zh_cn: ") == alerts
