"""``lianbo bench cluster`` runs end to end at a tiny size (two processes,
30 screens through two HAProxy edges): every count adds up and no alert is
lost. Figures (times) come from full runs (docs/benchmarks.md), never from here."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from bench import cluster as bench_cluster
from bench.cluster import run
from bench.fleet import PLACES
from bench.harness.postgres import create_database

from tests.support.services import Postgres, missing

pytestmark = pytest.mark.cluster

SCREENS = 30


def test_the_cluster_benchmark_runs_tiny(
    postgres: Postgres | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if shutil.which("haproxy") is None:
        missing("HAProxy is not installed (apt-get install haproxy)")
    if postgres is None:
        missing("PostgreSQL is not installed (apt-get install postgresql)")
    assert postgres is not None
    url = create_database(postgres, f"bench_cluster_{os.getpid()}")
    monkeypatch.setattr(bench_cluster, "EDGE_SCREENS", SCREENS // 2)  # two edges, as at 10,000
    figures = run(SCREENS, tmp_path, processes=2, database_url=url)

    many, alone = figures["cluster"], figures["single"]
    assert many["ready"] == alone["ready"] == SCREENS
    assert sum(many["held"].values()) == SCREENS and len(many["held"]) == 2
    propagation = many["propagation"]
    assert propagation["received"] == propagation["sent"] == SCREENS
    for phase in (many, alone):
        assert phase["publish"]["pushed"] == phase["publish"]["applied"] == SCREENS
        assert phase["alert"]["targeted"] == phase["alert"]["received"] == SCREENS
        assert phase["alert"]["displayed_on_board"] == SCREENS
        # the receipt split: pushed copies, stamped by the processes holding them
        assert 0 < phase["alert"]["pushed"] <= SCREENS
        assert set(phase["alert"]["pushed_at_ms"]) <= set(phase["held"])
        assert phase["alert"]["push_transit_ms"]["max"] is not None
        # the simulated screens ack up their sockets (issue 15 §2), answered once stored
        assert phase["client_counts"]["ack_channel_ok"] >= SCREENS
    if figures["manifest_edge"]:  # pushed URLs through the edge (ADR 0024)
        for phase in (many, alone):
            assert phase["client_counts"]["published_200"] >= SCREENS  # (a phase may push twice)
            # once per audience version at most, never once per screen
            audiences = len({(i % 3, i % PLACES) for i in range(SCREENS)})  # tier, county
            assert 1 <= phase["publish"]["api_manifest_requests"] <= audiences
    failover = many["failover"]
    assert failover["screens_it_held"] == many["held"][failover["killed"]]
    assert failover["received"] == failover["displayed_on_board"] == SCREENS
    assert failover["alerts_lost"] == 0
    assert failover["all_back_s"] is not None  # every screen came back
