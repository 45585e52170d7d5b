import pytest

from lianbo.domain.roles import Role
from tests.support.env import PASSWORD, Env

pytestmark = pytest.mark.integration


async def test_a_password_gives_an_expiring_token_that_opens_the_api(env: Env) -> None:
    user = await env.user(Role.ADMIN, "51")
    response = await env.client.post(
        "/api/v1/auth/token", json={"username": user.username, "password": PASSWORD}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["expires_in"] == 12 * 3600
    headers = {"Authorization": f"Bearer {body['token']}"}
    assert (await env.client.get("/api/v1/terminals", headers=headers)).status_code == 200
    env.clock.advance(hours=13)
    expired = await env.client.get("/api/v1/terminals", headers=headers)
    assert expired.status_code == 401
    assert expired.json()["error"]["code"] == "unauthorized"


async def test_tokens_are_stored_hashed(env: Env) -> None:
    headers = await env.as_role()
    token = headers["Authorization"].split()[1]
    from sqlalchemy import select

    from lianbo.adapters.db.tables import TokenRow

    async with env.container.uow() as uow:
        stored = (await uow.session.scalars(select(TokenRow.token_hash))).all()
    assert token not in stored and len(stored) == 1 and len(stored[0]) == 64


async def test_wrong_password_is_401_and_unknown_user_looks_the_same(env: Env) -> None:
    user = await env.user()
    wrong = await env.client.post(
        "/api/v1/auth/token", json={"username": user.username, "password": "nope-nope-nope"}
    )
    unknown = await env.client.post(
        "/api/v1/auth/token", json={"username": "nobody", "password": "nope-nope-nope"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()


async def test_ten_failures_a_minute_then_429_even_with_the_right_password(env: Env) -> None:
    user = await env.user()
    for _ in range(10):
        r = await env.client.post(
            "/api/v1/auth/token", json={"username": user.username, "password": "wrong-password"}
        )
        assert r.status_code == 401
    limited = await env.client.post(
        "/api/v1/auth/token", json={"username": user.username, "password": PASSWORD}
    )
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) > 0
    assert limited.json()["error"]["code"] == "rate_limited"


async def test_logins_are_audited(env: Env) -> None:
    headers = await env.as_role()
    entries = (await env.client.get("/api/v1/audit?action=auth.login", headers=headers)).json()
    assert entries["total"] == 1
    assert entries["items"][0]["address"] == "203.0.113.7"


async def test_logout_revokes_the_token(env: Env) -> None:
    headers = await env.as_role()
    assert (await env.client.post("/api/v1/auth/logout", headers=headers)).status_code == 204
    assert (await env.client.get("/api/v1/terminals", headers=headers)).status_code == 401


async def test_malformed_json_is_422_in_the_error_shape(env: Env) -> None:
    response = await env.client.post(
        "/api/v1/auth/token", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation"


async def test_missing_token_is_401(env: Env) -> None:
    response = await env.client.get("/api/v1/terminals")
    assert response.status_code == 401
    assert set(response.json()["error"]) >= {"code", "message"}
