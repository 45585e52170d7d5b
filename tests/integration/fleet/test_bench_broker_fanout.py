"""`lianbo bench broker_fanout` runs at a small size (the figures come from full runs)."""

from __future__ import annotations

from pathlib import Path

import pytest
from bench import broker_fanout

from tests.integration.fleet.conftest import MOSQUITTO
from tests.support.services import missing, nats_server

pytestmark = [pytest.mark.integration, pytest.mark.mqtt]


def test_the_broker_fanout_benchmark_runs_at_a_small_size() -> None:
    nats_server()
    if not Path(MOSQUITTO).exists():
        missing("mosquitto is not installed (apt-get install mosquitto)")
    figures = broker_fanout.run(20, None)
    assert figures["bench"] == "broker_fanout"
    for broker in ("mosquitto", "nats_3_nodes"):
        assert figures[broker]["subscribers"] == 20 and figures[broker]["lost"] == 0
    assert figures["nats_3_nodes"]["callout"]["accepted"] >= 20
