"""The ``webhooks`` benchmark runs end to end (tiny size; figures come from full runs)."""

from __future__ import annotations

from pathlib import Path

import pytest
from bench.webhooks import run

pytestmark = pytest.mark.integration


def test_webhooks_benchmark_smoke(tmp_path: Path) -> None:
    figures = run(3, tmp_path)
    assert figures["idle"]["alarms"] == 3 and figures["idle"]["p99_ms"] >= 0
    assert figures["burst"]["last_ms"] >= 0
