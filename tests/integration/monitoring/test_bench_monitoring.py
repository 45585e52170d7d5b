"""The ``monitoring_core`` benchmark runs end to end (tiny size; figures come from full runs)."""

from __future__ import annotations

from pathlib import Path

import pytest
from bench.monitoring_core import run

pytestmark = pytest.mark.integration


def test_monitoring_benchmark_smoke(tmp_path: Path) -> None:
    figures = run(6, tmp_path, workers=1, speed_pictures=2, speed_seconds=0.2, camera_shots=2)
    assert figures["pairs"] >= 6
    assert figures["false_positives_at_match_max"] == 0
    assert figures["recall_no_ticker"] == 1.0
    assert figures["camera_shots"] == 2
    assert figures["verifications_per_s_1080p_jpeg_one_core"] > 0
