import asyncio
from pathlib import Path

import httpx
import pytest

from lianbo.api.app import create_app
from lianbo.bootstrap import bootstrap
from lianbo.config import Settings
from tests.support.env import Env
from tests.support.metrics import value
from tests.support.services import free_port
from tests.support.waiting import until

pytestmark = pytest.mark.integration


async def test_healthz_and_metrics(env: Env) -> None:
    if env.backend == "postgres":
        # A PostgreSQL process is ready once it hears the other processes'
        # events; it leads only once it holds the lock.
        cold = await env.client.get("/healthz")
        assert cold.status_code == 503
        assert cold.json()["not_ready"] == ["bus"]
        await env.container.bus.start()
        campaign = asyncio.create_task(env.container.leader.campaign())
        await env.container.leader.until(True)
        await until(lambda: env.container.bus.connected, "the bus listener connected")
    try:
        healthy = {"status": "ok", "database": "ok", "info": {"leader": True}}
        if env.backend == "postgres":
            healthy |= {"bus": "ok"}
        assert (await env.client.get("/healthz")).json() == healthy
    finally:
        if env.backend == "postgres":
            campaign.cancel()
            await asyncio.gather(campaign, return_exceptions=True)
            await env.container.bus.stop()
    admin = await env.as_role()
    await env.terminal(admin, tier="hall")
    text = (await env.client.get("/metrics")).text
    assert value(text, "lianbo_terminals", status="pending", tier="hall") == 1
    assert "lianbo_http_requests_total" in text
    assert value(text, "lianbo_audit_entries") == 3


async def test_healthz_names_a_check_that_is_not_ready(env: Env) -> None:
    bus_up = False
    env.container.health_checks["bus"] = lambda: bus_up
    env.container.health_info["leader"] = lambda: True
    down = await env.client.get("/healthz")
    assert down.status_code == 503
    assert down.json() == {
        "status": "error",
        "database": "ok",
        "bus": "error",
        "not_ready": ["bus"],
        "info": {"leader": True},
    }
    bus_up = True
    up = await env.client.get("/healthz")
    assert up.status_code == 200
    assert up.json()["status"] == "ok"


async def test_healthz_is_not_ready_without_its_store(tmp_path: Path) -> None:
    # Nothing listens on this port: the store is down from the start.
    url = f"postgresql+asyncpg://lianbo@127.0.0.1:{free_port()}/gone"
    container = bootstrap(Settings(data_dir=tmp_path, database_url=url))
    transport = httpx.ASGITransport(app=create_app(container=container))
    async with httpx.AsyncClient(transport=transport, base_url="http://lianbo.test") as client:
        response = await client.get("/healthz")
    await container.close()
    assert response.status_code == 503
    assert response.json() == {
        "status": "error",
        "database": "error",
        "bus": "error",  # no store, no bus: a PostgreSQL deployment's bus is the store
        "not_ready": ["database", "bus"],
        "info": {"leader": False},
    }


async def test_unknown_routes_answer_in_the_error_shape(env: Env) -> None:
    response = await env.client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    openapi = (await env.client.get("/openapi.json")).json()
    assert "/api/v1/terminals" in openapi["paths"]
