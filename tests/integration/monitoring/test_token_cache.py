"""The long-lived terminal token cache: every change is pushed into it."""

from __future__ import annotations

import pytest

from lianbo.domain.tokens import digest
from tests.integration.monitoring.helpers import screen
from tests.support.env import Env

pytestmark = pytest.mark.integration

HEARTBEAT = "/terminal/v1/heartbeat"
MANIFEST = "/terminal/v1/manifest"


def cached(env: Env, headers: dict[str, str]) -> bool:
    token = headers["Authorization"].removeprefix("Bearer ")
    return env.container.manifest_cache.terminal(digest(token)) is not None


async def beat(env: Env, headers: dict[str, str]) -> tuple[int, dict[str, object]]:
    env.clock.advance(seconds=30)  # a player's interval: never rate limited here
    reply = await env.client.post(HEARTBEAT, headers=headers, json={"push": "polling"})
    body: dict[str, object] = reply.json()
    return reply.status_code, body


async def warm(env: Env, headers: dict[str, str]) -> str:
    """Heartbeat and poll until both fast paths answer from memory; the ETag."""
    assert (await beat(env, headers))[0] == 200
    polled = await env.client.get(MANIFEST, headers=headers)
    assert polled.status_code == 200, polled.text
    etag = polled.headers["etag"]
    again = await env.client.get(MANIFEST, headers=headers | {"If-None-Match": etag})
    assert again.status_code == 304
    assert cached(env, headers)
    assert env.container.monitor.callers.cached_caller(
        env.container, digest(headers["Authorization"].removeprefix("Bearer "))
    )
    return etag


async def test_a_retired_terminal_is_refused_at_once_though_cached(env: Env) -> None:
    admin = await env.as_role()
    terminal_id, headers = await screen(env, admin)
    etag = await warm(env, headers)
    retired = await env.client.post(f"/api/v1/terminals/{terminal_id}/retire", headers=admin)
    assert retired.status_code == 200
    assert not cached(env, headers)
    status, body = await beat(env, headers)
    assert status == 401 and body["error"]["code"] == "unauthorized"  # type: ignore[index]
    polled = await env.client.get(MANIFEST, headers=headers | {"If-None-Match": etag})
    assert polled.status_code == 401
    assert (await env.client.get(MANIFEST, headers=headers)).status_code == 401


async def test_a_re_enrolled_terminal_s_old_token_is_refused_at_once(env: Env) -> None:
    admin = await env.as_role()
    terminal_id, old = await screen(env, admin)
    etag = await warm(env, old)
    issued = await env.client.post(f"/api/v1/terminals/{terminal_id}/enrolment-code", headers=admin)
    assert issued.status_code == 201
    enrolled = await env.client.post(
        "/terminal/v1/enrol", json={"code": issued.json()["enrolment_code"]}
    )
    assert enrolled.status_code == 200, enrolled.text
    new = {"Authorization": f"Bearer {enrolled.json()['token']}"}
    assert not cached(env, old)
    assert (await beat(env, old))[0] == 401
    polled = await env.client.get(MANIFEST, headers=old | {"If-None-Match": etag})
    assert polled.status_code == 401
    assert (await beat(env, new))[0] == 200
    polled = await env.client.get(MANIFEST, headers=new | {"If-None-Match": etag})
    assert polled.status_code == 304  # same audience, same programme


async def test_a_moved_terminal_learns_its_new_audience_in_the_next_heartbeat_reply(
    env: Env,
) -> None:
    admin = await env.as_role()
    terminal_id, headers = await screen(env, admin, tier="outdoor", region="510107")
    await warm(env, headers)
    status, body = await beat(env, headers)
    assert status == 200
    assert body["audience"] == {"region": "510107", "tier": "outdoor", "groups": [], "tags": []}
    moved = await env.client.patch(
        f"/api/v1/terminals/{terminal_id}",
        json={"region": "510104", "tier": "hall", "tags": ["lang:bo"]},
        headers=admin,
    )
    assert moved.status_code == 200, moved.text
    status, body = await beat(env, headers)
    assert status == 200
    assert body["audience"] == {
        "region": "510104",
        "tier": "hall",
        "groups": [],
        "tags": ["lang:bo"],
    }
    status, body = await beat(env, headers)  # and again from memory, still the new one
    assert status == 200 and body["audience"]["region"] == "510104"  # type: ignore[index]
    assert cached(env, headers)


async def test_the_token_cache_lasts_as_configured(env: Env) -> None:
    cache = env.container.manifest_cache
    assert cache.terminal_ttl_s == env.container.settings.terminal_cache_minutes * 60
    assert env.container.settings.terminal_cache_minutes >= 60  # hours, not a minute
