"""The ``monitoring`` benchmark runs end to end (tiny size; figures come from full runs)."""

from __future__ import annotations

from pathlib import Path

import pytest
from bench.monitoring import run

pytestmark = pytest.mark.integration


def test_monitoring_benchmark_smoke(tmp_path: Path) -> None:
    figures = run(40, tmp_path, seconds=0.5, clients=1, connections=2, batch=20, trials=2)
    assert figures["heartbeats_per_s"] > 0
    assert figures["playlog_rows_per_s"] > 0
    assert figures["service_heartbeats_per_s"] > 0 and figures["service_screenshots_per_s"] > 0
    assert figures["screenshot_verifications_per_s"] > 0
    assert figures["screenshot_verdicts"].get("match", 0) > 0
    assert figures["offline_trials"] == 2
    assert figures["offline_alarm_latency_max_s"] <= 2 * 30
    assert figures["socket_heartbeats"]["accepted"] == 3 * 40  # the burst, over the sockets
    assert figures["socket_heartbeats_per_s"] > 0
    assert figures["socket_heartbeat_screens_stored"] == 40
    assert figures["content_mismatch_trials"] == 2
    assert figures["content_mismatch_alarm_latency_max_s"] <= 10
