import pytest

from tests.support.env import Env
from tests.support.metrics import value

pytestmark = pytest.mark.integration


async def test_healthz_and_metrics(env: Env) -> None:
    assert (await env.client.get("/healthz")).json() == {"status": "ok", "database": "ok"}
    admin = await env.as_role()
    await env.terminal(admin, tier="hall")
    text = (await env.client.get("/metrics")).text
    assert value(text, "lianbo_terminals", status="pending", tier="hall") == 1
    assert "lianbo_http_requests_total" in text
    assert value(text, "lianbo_audit_entries") == 3


async def test_unknown_routes_answer_in_the_error_shape(env: Env) -> None:
    response = await env.client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    openapi = (await env.client.get("/openapi.json")).json()
    assert "/api/v1/terminals" in openapi["paths"]
