import pytest

from lianbo.domain.roles import Role
from tests.support.env import Env

pytestmark = pytest.mark.integration


async def test_a_county_operator_cannot_list_read_or_change_a_neighbours_terminal(env: Env) -> None:
    admin = await env.as_role(Role.ADMIN, "51")
    wuhou = await env.terminal(admin, name="武侯屏", region="510107")
    jinjiang = await env.terminal(admin, name="锦江屏", region="510104")
    operator = await env.as_role(Role.OPERATOR, "510107")

    listed = (await env.client.get("/api/v1/terminals", headers=operator)).json()
    assert [t["id"] for t in listed["items"]] == [wuhou["id"]]
    assert listed["total"] == 1
    asked = (await env.client.get("/api/v1/terminals?region=510104", headers=operator)).json()
    assert asked == {"items": [], "total": 0}

    url = f"/api/v1/terminals/{jinjiang['id']}"
    assert (await env.client.get(url, headers=operator)).status_code == 404
    patched = await env.client.patch(url, json={"name": "hijacked"}, headers=operator)
    assert patched.status_code == 404
    assert (await env.client.post(f"{url}/retire", headers=operator)).status_code == 404
    moved = await env.client.patch(
        f"/api/v1/terminals/{wuhou['id']}", json={"region": "510104"}, headers=operator
    )
    assert moved.status_code == 400 and moved.json()["error"]["field"] == "region"
    created = await env.client.post(
        "/api/v1/terminals",
        json={"name": "越界", "tier": "home", "region": "510104", "latitude": 30, "longitude": 104},
        headers=operator,
    )
    assert created.status_code == 400

    everything = (await env.client.get("/api/v1/terminals", headers=admin)).json()
    assert {t["name"] for t in everything["items"]} == {"武侯屏", "锦江屏"}
    unchanged = (await env.client.get(url, headers=admin)).json()
    assert unchanged["name"] == "锦江屏" and unchanged["status"] == "pending"


async def test_users_and_audit_are_scoped_too(env: Env) -> None:
    province = await env.as_role(Role.ADMIN, "51")
    county_admin_user = await env.user(Role.ADMIN, "510107")
    county = await env.login(county_admin_user)
    await env.terminal(province, region="510104")
    other = await env.user(Role.OPERATOR, "510104")

    assert (await env.client.get(f"/api/v1/users/{other.id}", headers=county)).status_code == 404
    listed = (await env.client.get("/api/v1/users", headers=county)).json()
    assert {u["region"] for u in listed["items"]} == {"510107"}
    outside = await env.client.post(
        "/api/v1/users",
        json={"username": "sneaky", "password": "long-enough-1", "role": "admin", "region": "51"},
        headers=county,
    )
    assert outside.status_code == 400
    audit = (await env.client.get("/api/v1/audit", headers=county)).json()
    assert all(e["region"].startswith("510107") for e in audit["items"])
    assert audit["total"] >= 1
