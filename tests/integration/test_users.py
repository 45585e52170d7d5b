import pytest

from lianbo.domain.roles import Role
from tests.support.env import Env

pytestmark = pytest.mark.integration


async def test_admin_creates_and_changes_a_user_audited(env: Env) -> None:
    admin = await env.as_role(Role.ADMIN, "51")
    created = await env.client.post(
        "/api/v1/users",
        json={
            "username": "wuhou-op",
            "password": "long-enough-1",
            "role": "operator",
            "region": "510107",
        },
        headers=admin,
    )
    assert created.status_code == 201
    user_id = created.json()["id"]
    token = (
        await env.client.post(
            "/api/v1/auth/token", json={"username": "wuhou-op", "password": "long-enough-1"}
        )
    ).json()["token"]
    changed = await env.client.patch(
        f"/api/v1/users/{user_id}", json={"role": "viewer"}, headers=admin
    )
    assert changed.json()["role"] == "viewer"
    # A role change ends the user's sessions.
    stale = await env.client.get("/api/v1/terminals", headers={"Authorization": f"Bearer {token}"})
    assert stale.status_code == 401
    audit = (await env.client.get("/api/v1/audit?action=user.", headers=admin)).json()
    actions = {e["action"]: e for e in audit["items"]}
    assert actions["user.role"]["before"]["role"] == "operator"
    assert actions["user.role"]["after"]["role"] == "viewer"
    assert "user.create" in actions


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"username": "a b"}, 400, "username"),
        ({"password": "short"}, 400, "password"),
        ({"role": "king"}, 422, "role"),
        ({"region": "99"}, 400, "region"),
        ({"username": "x" * 65}, 422, "username"),
    ],
)
async def test_bad_users_are_refused(
    env: Env, body: dict[str, str], status: int, field: str
) -> None:
    admin = await env.as_role()
    base = {"username": "newbie", "password": "long-enough-1", "role": "viewer", "region": "51"}
    response = await env.client.post("/api/v1/users", json=base | body, headers=admin)
    assert response.status_code == status
    assert response.json()["error"]["field"] == field


async def test_duplicate_username_is_409(env: Env) -> None:
    admin = await env.as_role()
    body = {"username": "twin", "password": "long-enough-1", "role": "viewer", "region": "51"}
    assert (await env.client.post("/api/v1/users", json=body, headers=admin)).status_code == 201
    assert (await env.client.post("/api/v1/users", json=body, headers=admin)).status_code == 409


async def test_only_admins_manage_users(env: Env) -> None:
    operator = await env.as_role(Role.OPERATOR, "51")
    assert (await env.client.get("/api/v1/users", headers=operator)).status_code == 403
