"""GET /media/{sha256}: Range, ETag, HEAD, immutable caching, bad input."""

from __future__ import annotations

import hashlib
import os

import pytest

from lianbo.domain.roles import Role
from tests.support.content import png, upload
from tests.support.env import Env

pytestmark = pytest.mark.integration


async def stored(env: Env, size: int = 300_000) -> tuple[str, bytes]:
    """A blob straight in the store (delivery does not care what it is)."""
    data = os.urandom(size)
    writer = env.container.blobs.writer(10**9)
    writer.write(data)
    blob = writer.finish()
    return blob.sha256, data


async def test_whole_file_head_and_etag(env: Env) -> None:
    sha, data = await stored(env)
    full = await env.client.get(f"/media/{sha}")
    assert full.status_code == 200 and full.content == data
    assert full.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert full.headers["etag"] == f'"{sha}"' and full.headers["accept-ranges"] == "bytes"
    head = await env.client.head(f"/media/{sha}")
    assert head.status_code == 200 and head.content == b""
    assert int(head.headers["content-length"]) == len(data)
    cached = await env.client.get(f"/media/{sha}", headers={"If-None-Match": f'"{sha}"'})
    assert cached.status_code == 304


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-99", 0, 100),
        ("bytes=299999-299999", 299_999, 300_000),
        ("bytes=-500", 299_500, 300_000),
        ("bytes=1000-", 1000, 300_000),
    ],
)
async def test_ranges(env: Env, header: str, start: int, end: int) -> None:
    sha, data = await stored(env)
    response = await env.client.get(f"/media/{sha}", headers={"Range": header})
    assert response.status_code == 206
    assert response.content == data[start:end]
    assert response.headers["content-range"] == f"bytes {start}-{end - 1}/{len(data)}"


@pytest.mark.parametrize(
    ("header", "status"),
    [
        ("bytes=300000-", 416),
        ("bytes=400000-500000", 416),
        ("bytes=500-100", 400),
        ("bytes=abc", 400),
        ("items=0-1", 400),
    ],
)
async def test_unsatisfiable_and_malformed_ranges(env: Env, header: str, status: int) -> None:
    sha, _ = await stored(env)
    response = await env.client.get(f"/media/{sha}", headers={"Range": header})
    assert response.status_code == status
    assert response.headers.get("content-range", "bytes */300000") == "bytes */300000"
    assert response.json()["error"]["field"] == "Range"  # the error shape, like every error


async def test_unknown_or_malformed_sha_is_404(env: Env) -> None:
    assert (await env.client.get(f"/media/{'0' * 64}")).status_code == 404
    assert (await env.client.get("/media/..%2F..%2Fetc%2Fpasswd")).status_code == 404
    response = await env.client.get("/media/not-a-hash")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


async def test_an_uploaded_asset_is_served_by_its_hash(env: Env) -> None:
    operator = await env.as_role(Role.OPERATOR, "51")
    data = png()
    asset = (await upload(env, operator, data)).json()
    served = await env.client.get(f"/media/{asset['sha256']}")
    assert hashlib.sha256(served.content).hexdigest() == asset["sha256"]
