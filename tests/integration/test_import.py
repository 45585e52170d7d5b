import pytest

from lianbo.domain.roles import Role
from tests.support.env import Env

pytestmark = pytest.mark.integration

HEADER = "name,tier,region,latitude,longitude,tags,groups\n"


async def test_bulk_import_creates_all_with_codes(env: Env) -> None:
    admin = await env.as_role()
    rows = "".join(f"屏{i},home,510107,30.6,104.0,stb,cd\n" for i in range(250))
    response = await env.client.post(
        "/api/v1/terminals/import",
        files={"file": ("screens.csv", (HEADER + rows).encode(), "text/csv")},
        headers=admin,
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["created"] == 250 and len({i["enrolment_code"] for i in body["items"]}) == 250
    listed = (await env.client.get("/api/v1/terminals?tag=stb&group=cd", headers=admin)).json()
    assert listed["total"] == 250
    one = body["items"][17]
    enrolled = await env.client.post("/terminal/v1/enrol", json={"code": one["enrolment_code"]})
    assert enrolled.json()["terminal_id"] == one["id"]


async def test_a_bad_row_refuses_the_whole_file_and_names_it(env: Env) -> None:
    admin = await env.as_role()
    body = HEADER + "好屏,home,510107,30,104,,\n" * 1 + "坏屏,home,510107,300,104,,\n"
    response = await env.client.post(
        "/api/v1/terminals/import",
        content=body.encode(),
        headers=admin | {"content-type": "text/csv"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith("row 3:")
    assert (await env.client.get("/api/v1/terminals", headers=admin)).json()["total"] == 0


async def test_a_name_already_in_use_is_named_by_row(env: Env) -> None:
    admin = await env.as_role()
    await env.terminal(admin, name="已有屏")
    body = HEADER + "新屏,home,510107,30,104,,\n已有屏,home,510107,30,104,,\n"
    response = await env.client.post(
        "/api/v1/terminals/import",
        content=body.encode(),
        headers=admin | {"content-type": "text/csv"},
    )
    assert response.status_code == 400
    assert "row 3" in response.json()["error"]["message"]
    assert (await env.client.get("/api/v1/terminals", headers=admin)).json()["total"] == 1


async def test_rows_outside_the_jurisdiction_are_refused(env: Env) -> None:
    operator = await env.as_role(Role.OPERATOR, "510107")
    body = HEADER + "a,home,510107,30,104,,\nb,home,510104,30,104,,\n"
    response = await env.client.post(
        "/api/v1/terminals/import",
        content=body.encode(),
        headers=operator | {"content-type": "text/csv"},
    )
    assert response.status_code == 400 and "row 3" in response.json()["error"]["message"]


async def test_non_utf8_and_missing_file_are_refused(env: Env) -> None:
    admin = await env.as_role()
    latin = await env.client.post(
        "/api/v1/terminals/import",
        content=(HEADER + "café,home,510107,30,104,,\n").encode("latin-1"),
        headers=admin | {"content-type": "text/csv"},
    )
    assert latin.status_code == 400 and "UTF-8" in latin.json()["error"]["message"]
    empty = await env.client.post(
        "/api/v1/terminals/import", files={"other": ("x.csv", b"x")}, headers=admin
    )
    assert empty.status_code == 400 and empty.json()["error"]["field"] == "file"
