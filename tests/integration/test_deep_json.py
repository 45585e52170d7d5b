"""Deeply nested JSON (and XML) is bad input: 400 with the error shape, never a 500."""

from __future__ import annotations

import pytest

from lianbo.domain.roles import Role
from tests.integration.monitoring.helpers import screen
from tests.support.env import Env

ABYSS = b"[" * 100_000  # deeper than Python's recursion limit
PIT = b'{"entries":' + b"[" * 2_000  # past the recursion limit, within every size limit
JSON = {"Content-Type": "application/json"}


def refused(response: object, *statuses: int) -> None:
    """400 (or one of ``statuses``: 413 where the body is also over the size limit)."""
    assert getattr(response, "status_code", None) in (400, *statuses), getattr(response, "text", "")
    error = response.json()["error"]  # type: ignore[attr-defined]
    assert error["code"] and error["message"]
    assert "Recursion" not in error["message"]


@pytest.mark.parametrize("body", [ABYSS, PIT], ids=["abyss", "pit"])
@pytest.mark.parametrize("path", ["/terminal/v1/heartbeat", "/terminal/v1/playlog"])
async def test_a_screen_posting_deep_json_gets_400(env: Env, path: str, body: bytes) -> None:
    admin = await env.as_role(Role.ADMIN)
    _, terminal = await screen(env, admin)
    # Twice: the first may reach the route, the second the fast path (token cached).
    for _ in range(2):
        refused(await env.client.post(path, content=body, headers=terminal | JSON), 413)
    ok = await env.client.post("/terminal/v1/heartbeat", json={"ok": True}, headers=terminal)
    assert ok.status_code == 200


@pytest.mark.parametrize(
    "path", ["/api/v1/auth/token", "/terminal/v1/enrol", "/api/v1/terminals", "/api/v1/alerts"]
)
async def test_deep_json_to_an_api_route_gets_400(env: Env, path: str) -> None:
    admin = await env.as_role(Role.ADMIN)
    refused(await env.client.post(path, content=ABYSS, headers=admin | JSON), 413)
    refused(await env.client.post(path, content=PIT, headers=admin | JSON))


async def test_deeply_nested_cap_xml_is_refused(env: Env) -> None:
    issuer = await env.as_role(Role.ISSUER)
    xml = b"<alert>" * 100_000
    response = await env.client.post(
        "/api/v1/alerts/cap", content=xml, headers=issuer | {"Content-Type": "application/cap+xml"}
    )
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["error"]["code"]
