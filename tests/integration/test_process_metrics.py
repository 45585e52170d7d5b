"""/metrics across processes: the process label, cluster gauges, screens offline."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
import structlog

from lianbo.api.app import create_app
from lianbo.bootstrap import bootstrap
from lianbo.config import Settings
from tests.integration.monitoring.helpers import screen
from tests.support.clock import FakeClock
from tests.support.env import Env
from tests.support.metrics import promtool, samples, value
from tests.support.services import free_port

pytestmark = pytest.mark.integration


async def test_every_series_carries_this_process(env: Env) -> None:
    admin = await env.as_role()
    await env.terminal(admin, tier="hall")
    text = (await env.client.get("/metrics")).text
    found = samples(text)
    assert {s.name for s in found} >= {
        "lianbo_terminals",
        "lianbo_http_requests_total",
        "lianbo_heartbeats_ingested_total",
        "lianbo_leader",
        "lianbo_jobs_pending",
    }
    process = env.container.settings.process_name
    assert [s for s in found if s.labels.get("process") != process] == []


async def test_the_page_passes_promtool_s_format_and_naming_checks(env: Env) -> None:
    admin = await env.as_role()
    _, headers = await screen(env, admin, region="510107")
    await env.client.post("/terminal/v1/heartbeat", headers=headers)
    text = (await env.client.get("/metrics")).text
    checked = promtool("check", "metrics", stdin=text)
    assert checked.returncode == 0 and not checked.stdout.strip(), checked.stdout + checked.stderr


async def test_one_process_is_the_leader_and_reports_its_job_queue(env: Env) -> None:
    if env.backend == "postgres":  # no lifespan here: nobody campaigned yet
        assert value((await env.client.get("/metrics")).text, "lianbo_leader") == 0
        campaign = asyncio.create_task(env.container.leader.campaign())
        await env.container.leader.until(True)
    text = (await env.client.get("/metrics")).text
    if env.backend == "postgres":
        campaign.cancel()
        await asyncio.gather(campaign, return_exceptions=True)
    assert value(text, "lianbo_leader") == 1
    assert value(text, "lianbo_jobs_pending") == 0
    assert value(text, "lianbo_store_up") == 1
    if env.backend == "sqlite":
        # No bus in the embedded default: its series are left out, not faked.
        assert value(text, "lianbo_bus_connected") is None
    else:  # PostgreSQL: the bus exists; this app's listener was never started
        assert value(text, "lianbo_bus_connected") == 0
        assert value(text, "lianbo_bus_lag_seconds") == 0


async def test_screens_offline_counts_a_screen_that_went_silent(env: Env) -> None:
    admin = await env.as_role()
    _, headers = await screen(env, admin, region="510107")
    await screen(env, admin, region="510104")  # enrolled, never seen: not counted
    await env.client.post("/terminal/v1/heartbeat", headers=headers)
    before = (await env.client.get("/metrics")).text
    sichuan = {"region": "51", "region_name": "四川省"}
    assert value(before, "lianbo_screens_offline", **sichuan) == 0
    assert value(before, "lianbo_screens_in_service", **sichuan) == 1

    env.clock.advance(seconds=61)
    await env.container.monitor.sweep()
    after = (await env.client.get("/metrics")).text
    assert value(after, "lianbo_screens_offline", **sichuan) == 1
    assert value(after, "lianbo_screens_in_service", **sichuan) == 1


async def test_screens_offline_is_read_from_the_store_at_most_every_few_seconds(
    env: Env,
) -> None:
    admin = await env.as_role()
    _, headers = await screen(env, admin, region="510107")
    await env.client.post("/terminal/v1/heartbeat", headers=headers)
    assert "lianbo_screens_offline" in (await env.client.get("/metrics")).text
    guangdong = await env.as_role(region="44")
    _, other = await screen(env, guangdong, region="440106")
    await env.client.post("/terminal/v1/heartbeat", headers=other)

    cached = (await env.client.get("/metrics")).text
    assert value(cached, "lianbo_screens_in_service", region="44") is None
    env.clock.advance(seconds=5)
    fresh = (await env.client.get("/metrics")).text
    assert value(fresh, "lianbo_screens_in_service", region="44", region_name="广东省") == 1


@pytest.mark.parametrize(
    "url",
    [
        "sqlite+aiosqlite:///{tmp}/no-such-dir/lianbo.db",
        "postgresql+asyncpg://lianbo@127.0.0.1:{port}/lianbo",
    ],
    ids=["sqlite", "postgres"],
)
async def test_without_the_store_a_process_still_reports_what_it_knows(
    url: str, tmp_path: Path
) -> None:
    settings = Settings(data_dir=tmp_path, database_url=url.format(tmp=tmp_path, port=free_port()))
    container = bootstrap(settings, clock=FakeClock())
    transport = httpx.ASGITransport(app=create_app(container=container))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://lianbo.test") as client:
            with structlog.testing.capture_logs() as logs:
                first = await client.get("/metrics")
                second = await client.get("/metrics")
    finally:
        await container.close()
    assert first.status_code == 200, first.text
    text = second.text
    assert value(text, "lianbo_store_up", process=settings.process_name) == 0
    # SQLite's one process leads; without its store no PostgreSQL process can.
    assert value(text, "lianbo_leader") == (1 if url.startswith("sqlite") else 0)
    assert value(text, "lianbo_heartbeats_ingested_total") == 0
    assert value(text, "lianbo_terminals") is None
    assert value(text, "lianbo_screens_offline") is None
    lost = [e for e in logs if e["event"] == "metrics: the store does not answer"]
    assert len(lost) == 1  # once per transition, not once per scrape
