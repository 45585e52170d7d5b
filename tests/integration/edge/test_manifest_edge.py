"""Manifest versions through the shipped caching edge (nginx, deploy/nginx/)
in front of a real lianbo (ADR 0024): after a publish the first fetch is a
MISS and the rest HITs, the origin answers each version once however many
screens ask at once, the body verifies with the centre's key, and a version
the origin refuses is refused through the edge too, never cached."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import httpx
import pytest

from lianbo.adapters.fleet.topics import audience_key
from lianbo.api.metrics import REQUESTS_REGISTRY
from lianbo.domain.roles import Role
from lianbo.protocol.messages import manifest_path
from tests.integration.fleet.conftest import Served, served
from tests.integration.programming.test_manifest_versions import publish
from tests.integration.programming.test_publish_to_manifest import manifest_bytes, screen, verify
from tests.support.edge import Edge

pytestmark = pytest.mark.integration

__all__ = ["served"]  # the fixture, from the fleet tests

ROUTE = "/manifests/{audience_key}/{version}"
SCREENS = 20  # asking at once, as an audience's screens do after a push


def answered(status: int) -> float:
    """How many manifest versions this process answered with ``status``."""
    labels = {"method": "GET", "route": ROUTE, "status": str(status)}
    return REQUESTS_REGISTRY.get_sample_value("lianbo_http_requests_total", labels) or 0.0


@pytest.fixture
async def edge(served: Served) -> AsyncIterator[Edge]:
    started = await asyncio.to_thread(Edge, served.port)
    yield started
    await asyncio.to_thread(started.stop)


async def published_version(served: Served, region: str) -> tuple[str, str]:
    """A screen in ``region`` and a programme published for it: the path of
    its new version (as the push names it), and the authenticated body."""
    env = served.env
    admin = await env.as_role(Role.ADMIN, "51")
    operator = await env.as_role(Role.OPERATOR, "51")
    _, token = await screen(env, admin, region=region)
    await publish(env, operator, targets={"regions": [region]})
    text = (await env.client.get("/terminal/v1/manifest", headers=token)).text
    body = json.loads(text)["manifest"]
    return manifest_path(audience_key(body["audience"]), body["version"]), text


async def test_a_version_is_fetched_from_the_origin_once_and_then_from_the_edge(
    served: Served, edge: Edge
) -> None:
    path, authenticated = await published_version(served, "510107")
    keys = (await served.env.client.get("/terminal/v1/keys")).json()["keys"]
    before = answered(200)
    async with httpx.AsyncClient(base_url=edge.url, timeout=60) as client:
        first = await client.get(path)
        assert first.status_code == 200, first.text
        assert first.headers["x-cache-status"] == "MISS"
        assert first.headers["cache-control"] == "public, max-age=31536000, immutable"
        document = json.loads(first.text)
        assert "server_time" not in document
        verify(document, manifest_bytes(first.text), keys)  # the centre's key
        assert document["manifest"] == json.loads(authenticated)["manifest"]

        again = await asyncio.gather(*(client.get(path) for _ in range(SCREENS)))
        assert {r.status_code for r in again} == {200}
        assert {r.headers["x-cache-status"] for r in again} == {"HIT"}
        assert {r.content for r in again} == {first.content}
        # the player's ?terminal= does not split the cache
        assert (await client.get(f"{path}?terminal=t-1")).headers["x-cache-status"] == "HIT"
    assert answered(200) - before == 1


async def test_screens_asking_at_once_cost_the_origin_one_request(
    served: Served, edge: Edge
) -> None:
    path, _ = await published_version(served, "510104")
    before = answered(200)
    async with httpx.AsyncClient(base_url=edge.url, timeout=60) as client:
        answers = await asyncio.gather(*(client.get(path) for _ in range(SCREENS)))
    assert {r.status_code for r in answers} == {200}
    assert len({r.content for r in answers}) == 1
    assert answered(200) - before == 1  # proxy_cache_lock: the rest waited for it


async def test_an_unknown_version_is_refused_through_the_edge_and_not_cached(
    served: Served, edge: Edge
) -> None:
    path, _ = await published_version(served, "510108")
    unknown = path.rsplit("/", 1)[0] + "/" + "f" * 64
    before = answered(404)
    async with httpx.AsyncClient(base_url=edge.url, timeout=60) as client:
        for _ in range(2):
            refused = await client.get(unknown)
            assert refused.status_code == 404
            assert refused.json()["error"]["code"] == "not_found"
            assert refused.headers.get("x-cache-status") != "HIT"
        malformed = await client.get("/manifests/not-a-key/x")
        assert malformed.status_code == 404
    assert answered(404) - before == 3  # each asked the origin: none was kept
