"""Media through the shipped caching edge (nginx, deploy/nginx/) in front of
a real lianbo: cached after the first fetch, Range requests served from the
cache, and a revoked asset gone from the edge at once (issue 15)."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator

import httpx
import numpy as np
import pytest
from PIL import Image

from lianbo.adapters.edge import NginxEdges
from lianbo.domain.roles import Role
from tests.integration.fleet.conftest import Served, served
from tests.support.content import approved_asset
from tests.support.edge import Edge
from tests.support.waiting import until

pytestmark = pytest.mark.integration

__all__ = ["served"]  # the fixture, from the fleet tests

SLICE = 8 * 1024 * 1024


def noise_png() -> bytes:
    """A PNG over two 8 MiB slices (noise does not compress)."""
    pixels = np.random.default_rng().integers(0, 256, (1800, 1800, 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "PNG", compress_level=0)
    data = out.getvalue()
    assert len(data) > SLICE
    return data


@pytest.fixture
async def edge(served: Served) -> AsyncIterator[Edge]:
    started = await asyncio.to_thread(Edge, served.port)
    served.env.container.edges = NginxEdges([started.url])
    yield started
    await asyncio.to_thread(started.stop)


async def test_media_is_cached_at_the_edge_ranges_too_and_a_revoked_asset_leaves_it(
    served: Served, edge: Edge
) -> None:
    env = served.env
    operator = await env.as_role(Role.OPERATOR, "51")
    data = noise_png()
    asset = await approved_asset(env, operator, data=data)
    sha = asset["sha256"]
    url = f"{edge.url}/media/{sha}"
    async with httpx.AsyncClient(timeout=60) as client:
        first = await client.get(url)
        assert first.status_code == 200 and first.content == data
        assert first.headers["x-cache-status"] == "MISS"
        again = await client.get(url)
        assert again.content == data and again.headers["x-cache-status"] == "HIT"

        # A range across the slice boundary, and the file's last bytes.
        start, stop = SLICE - 100, SLICE + 100
        part = await client.get(url, headers={"Range": f"bytes={start}-{stop - 1}"})
        assert part.status_code == 206 and part.content == data[start:stop]
        assert part.headers["content-range"] == f"bytes {start}-{stop - 1}/{len(data)}"
        assert part.headers["x-cache-status"] == "HIT"
        tail = await client.get(url, headers={"Range": "bytes=-10"})
        assert tail.status_code == 206 and tail.content == data[-10:]

        reviewer = await env.as_role(Role.REVIEWER, "51")
        revoked = await env.client.post(
            f"/api/v1/assets/{asset['id']}/revoke", json={"reason": "版权争议"}, headers=reviewer
        )
        assert revoked.status_code == 200, revoked.text
        # The purge runs after the commit (a bus handler): wait for its effect.
        gone = await _until_refused(client, url)
        assert gone.status_code == 410
        assert gone.headers.get("x-cache-status") in ("MISS", "EXPIRED", None)
        assert (await client.get(url, headers={"Range": "bytes=0-99"})).status_code == 410
        origin = await client.get(f"http://127.0.0.1:{served.port}/media/{sha}")
        assert origin.status_code == 410
        assert origin.json()["error"]["code"] == "gone"


async def _until_refused(client: httpx.AsyncClient, url: str) -> httpx.Response:
    answers: list[httpx.Response] = []

    async def refused() -> bool:
        answers.append(await client.get(url))
        return answers[-1].status_code != 200

    await until(refused, "the edge refuses the revoked file")
    return answers[-1]
