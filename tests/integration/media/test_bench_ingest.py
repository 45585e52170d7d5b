"""The ``ingest`` benchmark runs end to end (at a tiny size; figures come from full runs)."""

from __future__ import annotations

from pathlib import Path

import pytest
from bench.ingest import run

pytestmark = pytest.mark.integration


def test_ingest_benchmark_smoke(tmp_path: Path) -> None:
    figures = run(1, tmp_path, gop=5)
    assert figures["clip_s"] == 1 and figures["phash_seconds"] == 1
    assert figures["qc_status"] == "passed"
    assert figures["loudness_diff_lu"] <= 0.1
    for key in ("decode_only_fps", "qc_fps", "qc_speed_x", "qc_vs_decode", "phash_fps"):
        assert figures[key] > 0
