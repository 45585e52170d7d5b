"""Read a ``/metrics`` page as Prometheus would, instead of matching its text."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from tests.support.services import missing

PROMETHEUS_DIR = Path(__file__).resolve().parents[2] / "deploy" / "prometheus"


def samples(text: str) -> list[Sample]:
    """Every sample of a Prometheus text page."""
    return [s for family in text_string_to_metric_families(text) for s in family.samples]


def value(text: str, name: str, **labels: str) -> float | None:
    """The value of the one sample named ``name`` whose labels include ``labels``;
    None when there is none (two matches are a test mistake)."""
    found = [
        s.value for s in samples(text) if s.name == name and labels.items() <= s.labels.items()
    ]
    assert len(found) <= 1, f"{name}{labels} matches {len(found)} samples"
    return found[0] if found else None


def promtool(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run promtool in deploy/prometheus; skip without it (fail in CI)."""
    found = shutil.which("promtool")
    if found is None:
        missing("promtool not found (apt-get install prometheus)")
    assert found is not None
    return subprocess.run(
        [found, *args],
        cwd=PROMETHEUS_DIR,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
