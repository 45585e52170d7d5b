"""GET /manifests/{audience_key}/{version}: the published version of an
audience's signed manifest, without a token, cacheable by anyone (ADR 0024)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lianbo.adapters.fleet.topics import audience_key
from lianbo.domain.roles import Role
from tests.integration.programming.test_publish_to_manifest import (
    manifest_bytes,
    playlist,
    schedule_body,
    screen,
    verify,
)
from tests.support.content import approved_asset
from tests.support.env import Env

pytestmark = pytest.mark.integration


async def publish(env: Env, operator: dict[str, str], **extra: Any) -> str:
    asset = await approved_asset(env, operator)
    pid = await playlist(env, operator, asset["id"])
    created = await env.client.post(
        "/api/v1/schedules", json=schedule_body(pid, **extra), headers=operator
    )
    assert created.status_code == 201, created.text
    published = await env.client.post(
        f"/api/v1/schedules/{created.json()['id']}/publish", headers=operator
    )
    assert published.status_code == 200, published.text
    return pid


async def current(env: Env, token: dict[str, str]) -> tuple[str, str, dict[str, Any]]:
    """The screen's audience key, version and authenticated envelope."""
    response = await env.client.get("/terminal/v1/manifest", headers=token)
    envelope = json.loads(response.text)
    body = envelope["manifest"]
    return audience_key(body["audience"]), body["version"], envelope


async def test_the_current_version_is_served_immutable_signed_and_without_a_token(
    env: Env,
) -> None:
    admin = await env.as_role(Role.ADMIN, "51")
    operator = await env.as_role(Role.OPERATOR, "5101")
    _, token = await screen(env, admin, region="510107")
    await publish(env, operator)
    key, version, authenticated = await current(env, token)

    response = await env.client.get(f"/manifests/{key}/{version}")
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.headers["etag"] == f'"{version}"'
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.headers["content-type"] == "application/json"
    document = json.loads(response.text)
    assert document == {k: v for k, v in authenticated.items() if k != "server_time"}
    keys = (await env.client.get("/terminal/v1/keys")).json()["keys"]
    verify(document, manifest_bytes(response.text), keys)  # embedded as signed

    again = await env.client.get(
        f"/manifests/{key}/{version}", headers={"If-None-Match": f'"{version}"'}
    )
    assert again.status_code == 304 and again.headers["etag"] == f'"{version}"'


async def test_a_version_the_audience_does_not_have_is_404_and_a_superseded_one_too(
    env: Env,
) -> None:
    admin = await env.as_role(Role.ADMIN, "51")
    operator = await env.as_role(Role.OPERATOR, "5101")
    _, token = await screen(env, admin, region="510107")
    _, elsewhere = await screen(env, admin, region="510104", tier="home")
    key, first, _ = await current(env, token)
    other_key, other_version, _ = await current(env, elsewhere)
    await publish(env, operator)
    _, second, _ = await current(env, token)
    assert second != first

    # superseded before anyone asked: its stored span is unsigned (ADR 0006)
    assert (await env.client.get(f"/manifests/{key}/{first}")).status_code == 404
    # another audience's version under this audience, and an unknown audience
    assert (await env.client.get(f"/manifests/{key}/{other_version}")).status_code == 404
    assert (await env.client.get(f"/manifests/{'0' * 32}/{second}")).status_code == 404
    unknown = await env.client.get(f"/manifests/{key}/{'f' * 64}")
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "not_found"
    assert "cache-control" not in unknown.headers  # no cache may keep a refusal for long
    assert (await env.client.get(f"/manifests/{other_key}/{other_version}")).status_code == 200


async def test_malformed_ids_are_404_in_the_error_shape(env: Env) -> None:
    for audience, version in [
        ("K" * 32, "a" * 64),  # not lower-case hex
        ("a" * 31, "a" * 64),  # too short
        ("a" * 32, "A" * 64),
        ("a" * 32, "a" * 65),
        ("a" * 32, "..%2F..%2Fetc%2Fpasswd"),
        ("%E8%81%94%E6%92%AD", "a" * 64),
    ]:
        response = await env.client.get(f"/manifests/{audience}/{version}")
        assert response.status_code == 404, (audience, version, response.text)
        assert response.json()["error"]["code"] == "not_found"
