import base64

import pytest

from lianbo.domain.roles import Role
from tests.support.env import Env

pytestmark = pytest.mark.integration


async def test_a_code_becomes_a_token_once(env: Env) -> None:
    admin = await env.as_role()
    created = await env.terminal(admin)
    typed = created["enrolment_code"].lower().replace("-", " ")
    first = await env.client.post("/terminal/v1/enrol", json={"code": typed})
    assert first.status_code == 200
    body = first.json()
    assert body["terminal_id"] == created["id"]
    key = body["keys"][0]
    assert len(base64.b64decode(key["public_key"])) == 32
    keys = (await env.client.get("/terminal/v1/keys")).json()["keys"]
    assert keys[0] == key

    again = await env.client.post("/terminal/v1/enrol", json={"code": created["enrolment_code"]})
    assert again.status_code == 410
    assert "already used" in again.json()["error"]["message"]

    shown = (await env.client.get(f"/api/v1/terminals/{created['id']}", headers=admin)).json()
    assert shown["status"] == "offline" and shown["enrolled_at"] is not None


async def test_expired_and_unknown_codes_are_refused(env: Env) -> None:
    admin = await env.as_role()
    created = await env.terminal(admin)
    env.clock.advance(hours=24, seconds=1)
    expired = await env.client.post("/terminal/v1/enrol", json={"code": created["enrolment_code"]})
    assert expired.status_code == 410 and "expired" in expired.json()["error"]["message"]
    unknown = await env.client.post("/terminal/v1/enrol", json={"code": "ZZZZ-ZZZZ"})
    assert unknown.status_code == 404 and unknown.json()["error"]["field"] == "code"


async def test_reissuing_voids_the_old_code_and_retiring_voids_all(env: Env) -> None:
    admin = await env.as_role(Role.OPERATOR, "5101")
    created = await env.terminal(admin)
    fresh = await env.client.post(
        f"/api/v1/terminals/{created['id']}/enrolment-code", headers=admin
    )
    assert fresh.status_code == 201
    old = await env.client.post("/terminal/v1/enrol", json={"code": created["enrolment_code"]})
    assert old.status_code == 410
    await env.client.post(f"/api/v1/terminals/{created['id']}/retire", headers=admin)
    new = await env.client.post("/terminal/v1/enrol", json={"code": fresh.json()["enrolment_code"]})
    assert new.status_code == 410


async def test_enrolment_is_audited(env: Env) -> None:
    admin = await env.as_role()
    created = await env.terminal(admin)
    await env.client.post("/terminal/v1/enrol", json={"code": created["enrolment_code"]})
    audit = (await env.client.get("/api/v1/audit?action=terminal.enrol", headers=admin)).json()
    assert audit["items"][0]["target_id"] == created["id"]
    assert audit["items"][0]["actor"] == f"terminal:{created['id']}"
