import pytest

from lianbo.domain.roles import Role
from tests.support.env import Env

pytestmark = pytest.mark.integration


async def test_the_national_tree_is_loaded_with_full_names(env: Env) -> None:
    admin = await env.as_role(Role.ADMIN, "51")
    wuhou = (await env.client.get("/api/v1/regions/510107", headers=admin)).json()
    assert wuhou["full_name"] == "四川省 成都市 武侯区"
    assert wuhou["parent"] == "5101" and wuhou["full_code"] == "510107"
    city = (await env.client.get("/api/v1/regions/510100", headers=admin)).json()
    assert city["code"] == "5101"
    async with env.container.uow() as uow:
        assert await uow.regions.count() > 3000


async def test_children_carry_terminal_counts_of_their_subtree(env: Env) -> None:
    admin = await env.as_role(Role.ADMIN, "51")
    await env.terminal(admin, region="510107")
    await env.terminal(admin, region="510104")
    await env.terminal(admin, region="510303")
    top = (await env.client.get("/api/v1/regions", headers=admin)).json()
    assert [(r["code"], r["terminals"]) for r in top["items"]] == [("51", 3)]
    cities = (await env.client.get("/api/v1/regions?parent=51", headers=admin)).json()
    counts = {r["code"]: r["terminals"] for r in cities["items"]}
    assert counts["5101"] == 2 and counts["5103"] == 1
    found = (await env.client.get("/api/v1/regions?q=武侯", headers=admin)).json()
    assert [r["code"] for r in found["items"]] == ["510107"]


async def test_operators_add_townships_and_villages_inside_their_county(env: Env) -> None:
    operator = await env.as_role(Role.OPERATOR, "510107")
    town = await env.client.post(
        "/api/v1/regions", json={"code": "510107001", "name": "浆洗街街道"}, headers=operator
    )
    assert town.status_code == 201
    assert town.json()["full_name"] == "四川省 成都市 武侯区 浆洗街街道"
    village = await env.client.post(
        "/api/v1/regions", json={"code": "510107001002", "name": "七道堰社区"}, headers=operator
    )
    assert village.status_code == 201 and village.json()["level"] == 5
    await env.terminal(operator, region="510107001002")
    listed = (await env.client.get("/api/v1/terminals?region=510107001", headers=operator)).json()
    assert listed["total"] == 1


@pytest.mark.parametrize(
    ("code", "status"),
    [("510104001", 400), ("5101071", 400), ("510107001", 409), ("510107000", 400), ("abc", 400)],
)
async def test_bad_region_additions(env: Env, code: str, status: int) -> None:
    operator = await env.as_role(Role.OPERATOR, "510107")
    await env.client.post(
        "/api/v1/regions", json={"code": "510107001", "name": "浆洗街街道"}, headers=operator
    )
    response = await env.client.post(
        "/api/v1/regions", json={"code": code, "name": "x"}, headers=operator
    )
    assert response.status_code == status
    assert response.json()["error"]["field"] == "code"


async def test_regions_outside_the_jurisdiction_are_not_found(env: Env) -> None:
    operator = await env.as_role(Role.OPERATOR, "510107")
    assert (await env.client.get("/api/v1/regions/510104", headers=operator)).status_code == 404
    assert (await env.client.get("/api/v1/regions/51", headers=operator)).status_code == 200
