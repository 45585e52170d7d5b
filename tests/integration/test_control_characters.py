"""Control characters PostgreSQL cannot store are refused at the edge (issue 13 item 1)."""

from __future__ import annotations

import pytest

from tests.support.env import Env

pytestmark = pytest.mark.integration


def _refused(response: object, field: str) -> None:
    import httpx

    assert isinstance(response, httpx.Response)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "validation"
    assert error["field"] == field


async def test_a_nul_in_the_login_name_is_refused_not_a_server_error(env: Env) -> None:
    response = await env.client.post(
        "/api/v1/auth/token", json={"username": "ro\u0000ot", "password": "whatever-it-is"}
    )
    _refused(response, "username")


async def test_a_nul_in_an_audit_filter_is_refused(env: Env) -> None:
    headers = await env.as_role()
    response = await env.client.get("/api/v1/audit?user=a%00b", headers=headers)
    _refused(response, "user")


async def test_a_nul_in_a_terminal_name_is_refused(env: Env) -> None:
    headers = await env.as_role()
    body = {
        "name": "屏\u0000幕",
        "tier": "outdoor",
        "region": "510107",
        "latitude": 30.64,
        "longitude": 104.04,
    }
    response = await env.client.post("/api/v1/terminals", json=body, headers=headers)
    _refused(response, "name")


async def test_a_nul_in_a_playlist_name_is_refused(env: Env) -> None:
    headers = await env.as_role()
    body = {"name": "早间\u0000", "items": []}
    response = await env.client.post("/api/v1/playlists", json=body, headers=headers)
    _refused(response, "name")
