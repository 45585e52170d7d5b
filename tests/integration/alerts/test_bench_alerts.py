"""The ``alerts`` benchmark runs end to end (tiny size; figures come from full runs)."""

from __future__ import annotations

from pathlib import Path

import pytest
from bench.alerts import run

pytestmark = pytest.mark.integration


def test_alerts_benchmark_smoke(tmp_path: Path) -> None:
    figures = run(20, tmp_path)
    assert figures["targeted"] == 20 and figures["received"] == 20
    assert figures["topics"] == 1
    assert figures["displayed_counted"] == 20
    assert figures["push_ms"]["max"] is not None
    # the second alert is acked by the screens themselves, up their sockets
    assert figures["channel_displayed_counted"] == 20
    assert figures["client_counts"]["ack_channel_ok"] == 20
