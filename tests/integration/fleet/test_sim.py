"""The simulator against a real server: enrol, connect, publish, percentiles."""

from __future__ import annotations

import pytest

from lianbo.domain.roles import Role
from lianbo.sim.run import SimOptions, simulate
from tests.integration.fleet.conftest import Served
from tests.support.env import PASSWORD
from tests.support.waiting import HANG_GUARD_S

pytestmark = pytest.mark.integration


async def test_a_few_dozen_screens_report_propagation_percentiles(served: Served) -> None:
    admin = await served.env.user(Role.ADMIN, "51")
    options = SimOptions(
        server=f"http://127.0.0.1:{served.port}",
        terminals=36,
        user=admin.username,
        password=PASSWORD,
        processes=2,
        region="5101",
        timeout_s=HANG_GUARD_S,
    )
    report = await simulate(options)
    assert report["terminals"] == 36 and report["processes"] == 2
    assert report["server_sees_all_online"]
    assert report["counts"]["hellos"] >= 36
    (round_one,) = report["propagation"]
    assert round_one["pushed"] == round_one["applied"] == 36
    push, applied = round_one["push_ms"], round_one["applied_ms"]
    # Figures are the benchmark's (``lianbo sim``); the smoke test checks their shape.
    assert 0 < push["p50"] <= push["p90"] <= push["p99"] <= push["max"]
    assert push["p50"] <= applied["p50"] <= applied["max"]
