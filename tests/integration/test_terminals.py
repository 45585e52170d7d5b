import pytest

from lianbo.domain.roles import Role
from tests.support.env import Env

pytestmark = pytest.mark.integration


async def test_create_list_edit_retire(env: Env) -> None:
    admin = await env.as_role(Role.ADMIN, "51")
    created = await env.terminal(admin, name="春熙路大屏", tags=["landmark", "4k"], groups=["cd"])
    assert created["status"] == "pending"
    assert len(created["enrolment_code"]) == 9
    await env.terminal(admin, name="客厅1", tier="home", region="510104")

    page = (await env.client.get("/api/v1/terminals?tier=outdoor", headers=admin)).json()
    assert [t["name"] for t in page["items"]] == ["春熙路大屏"]
    by_tag = (await env.client.get("/api/v1/terminals?tag=4k", headers=admin)).json()
    assert by_tag["total"] == 1
    by_region = (await env.client.get("/api/v1/terminals?region=510104", headers=admin)).json()
    assert [t["name"] for t in by_region["items"]] == ["客厅1"]
    full_form = (await env.client.get("/api/v1/terminals?region=510100", headers=admin)).json()
    assert full_form["total"] == 2

    patched = await env.client.patch(
        f"/api/v1/terminals/{created['id']}",
        json={"name": "春熙路大屏A", "tags": ["landmark"], "latitude": 30.66},
        headers=admin,
    )
    assert patched.status_code == 200
    assert patched.json()["tags"] == ["landmark"]

    retired = await env.client.post(f"/api/v1/terminals/{created['id']}/retire", headers=admin)
    assert retired.json()["status"] == "retired"
    live = (await env.client.get("/api/v1/terminals", headers=admin)).json()
    assert live["total"] == 1
    gone = (await env.client.get("/api/v1/terminals?status=retired", headers=admin)).json()
    assert gone["items"][0]["id"] == created["id"]

    actions = [
        e["action"] for e in (await env.client.get("/api/v1/audit", headers=admin)).json()["items"]
    ]
    assert {"terminal.create", "terminal.update", "terminal.retire"} <= set(actions)


async def test_pagination(env: Env) -> None:
    admin = await env.as_role()
    for i in range(7):
        await env.terminal(admin, name=f"屏{i}")
    first = (await env.client.get("/api/v1/terminals?limit=3", headers=admin)).json()
    last = (await env.client.get("/api/v1/terminals?limit=3&offset=6", headers=admin)).json()
    assert first["total"] == last["total"] == 7
    assert len(first["items"]) == 3 and len(last["items"]) == 1
    assert (await env.client.get("/api/v1/terminals?limit=0", headers=admin)).status_code == 422


async def test_bad_input_is_named_and_changes_nothing(env: Env) -> None:
    admin = await env.as_role()
    cases = [
        ({"region": "999999"}, 400, "region"),
        ({"region": "abc"}, 400, "region"),
        ({"tier": "giant"}, 422, "tier"),
        ({"latitude": "north"}, 422, "latitude"),
        ({"latitude": 95}, 422, "latitude"),
        ({"name": "x" * 121}, 422, "name"),
        ({"name": "   "}, 400, "name"),
        ({"tags": ["t" * 41]}, 422, "tags.0"),
        ({"unexpected": 1}, 422, "unexpected"),
    ]
    for change, status, field in cases:
        body = {"name": "屏", "tier": "home", "region": "510107", "latitude": 30, "longitude": 104}
        response = await env.client.post("/api/v1/terminals", json=body | change, headers=admin)
        assert response.status_code == status, (change, response.text)
        assert response.json()["error"]["field"] == field, change
    assert (await env.client.get("/api/v1/terminals", headers=admin)).json()["total"] == 0


async def test_duplicate_name_in_a_region_is_409(env: Env) -> None:
    admin = await env.as_role()
    await env.terminal(admin, name="同名屏")
    again = await env.client.post(
        "/api/v1/terminals",
        json={
            "name": "同名屏",
            "tier": "home",
            "region": "510107",
            "latitude": 30,
            "longitude": 104,
        },
        headers=admin,
    )
    assert again.status_code == 409
    elsewhere = await env.terminal(admin, name="同名屏", region="510104")
    assert elsewhere["region"] == "510104"


async def test_viewers_cannot_create(env: Env) -> None:
    viewer = await env.as_role(Role.VIEWER, "51")
    response = await env.client.post(
        "/api/v1/terminals",
        json={"name": "x", "tier": "home", "region": "510107", "latitude": 30, "longitude": 104},
        headers=viewer,
    )
    assert response.status_code == 403
