from pathlib import Path

import httpx
import pytest

from lianbo.api.app import create_app
from lianbo.bootstrap import bootstrap
from lianbo.config import Settings
from tests.support.env import Env
from tests.support.metrics import value
from tests.support.services import free_port

pytestmark = pytest.mark.integration


async def test_healthz_and_metrics(env: Env) -> None:
    assert (await env.client.get("/healthz")).json() == {"status": "ok", "database": "ok"}
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
    assert response.json() == {"status": "error", "database": "error", "not_ready": ["database"]}


async def test_unknown_routes_answer_in_the_error_shape(env: Env) -> None:
    response = await env.client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    openapi = (await env.client.get("/openapi.json")).json()
    assert "/api/v1/terminals" in openapi["paths"]
