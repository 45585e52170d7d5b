"""GET /media/{sha256} with media in S3 (moto's server): the same answers
as the local store, streamed from the bucket with Range passed on, or from
the local cache when a copy is there."""

from __future__ import annotations

import hashlib
import os

import pytest

from lianbo.adapters.blobs_s3 import S3BlobStore
from lianbo.domain.roles import Role
from tests.support.content import png, upload
from tests.support.env import Env
from tests.support.s3 import S3Server
from tests.support.services import free_port
from tests.support.waiting import until

pytestmark = pytest.mark.integration

SIZE = 300_000


def bucket_of(env: Env) -> S3BlobStore:
    store = env.container.blobs
    assert isinstance(store, S3BlobStore)
    return store


async def stored(env: Env, cached: bool) -> tuple[str, bytes]:
    """A blob in the bucket; its local copy kept or dropped."""
    data = os.urandom(SIZE)
    store = bucket_of(env)
    writer = store.writer(10**9)
    writer.write(data)
    blob = writer.finish()
    if not cached:
        store.cache.drop(blob.sha256)
    return blob.sha256, data


@pytest.mark.parametrize("cached", [False, True], ids=["from-bucket", "from-cache"])
async def test_whole_file_head_and_etag(s3_env: Env, cached: bool) -> None:
    sha, data = await stored(s3_env, cached)
    full = await s3_env.client.get(f"/media/{sha}")
    assert full.status_code == 200 and full.content == data
    assert full.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert full.headers["etag"] == f'"{sha}"' and full.headers["accept-ranges"] == "bytes"
    head = await s3_env.client.head(f"/media/{sha}")
    assert head.status_code == 200 and head.content == b""
    assert int(head.headers["content-length"]) == len(data)
    cached_answer = await s3_env.client.get(f"/media/{sha}", headers={"If-None-Match": f'"{sha}"'})
    assert cached_answer.status_code == 304
    assert (bucket_of(s3_env).cached(sha) is not None) is cached  # streamed, not fetched whole


@pytest.mark.parametrize("cached", [False, True], ids=["from-bucket", "from-cache"])
@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-99", 0, 100),
        ("bytes=299999-299999", 299_999, 300_000),
        ("bytes=-500", 299_500, 300_000),
        ("bytes=1000-", 1000, 300_000),
    ],
)
async def test_ranges(s3_env: Env, cached: bool, header: str, start: int, end: int) -> None:
    sha, data = await stored(s3_env, cached)
    response = await s3_env.client.get(f"/media/{sha}", headers={"Range": header})
    assert response.status_code == 206
    assert response.content == data[start:end]
    assert response.headers["content-range"] == f"bytes {start}-{end - 1}/{len(data)}"
    assert int(response.headers["content-length"]) == end - start


async def test_a_head_with_a_range_sends_no_body(s3_env: Env) -> None:
    sha, _ = await stored(s3_env, cached=False)
    response = await s3_env.client.head(f"/media/{sha}", headers={"Range": "bytes=0-9"})
    assert response.status_code == 206 and response.content == b""
    assert response.headers["content-range"] == f"bytes 0-9/{SIZE}"


async def test_several_ranges_are_answered_from_the_cache(s3_env: Env) -> None:
    sha, data = await stored(s3_env, cached=False)
    response = await s3_env.client.get(f"/media/{sha}", headers={"Range": "bytes=0-9,100-109"})
    assert response.status_code == 206
    assert response.headers["content-type"].startswith("multipart/byteranges")
    assert data[0:10] in response.content and data[100:110] in response.content


async def test_a_stale_if_range_gets_the_whole_file(s3_env: Env) -> None:
    sha, data = await stored(s3_env, cached=False)
    response = await s3_env.client.get(
        f"/media/{sha}", headers={"Range": "bytes=0-9", "If-Range": '"other"'}
    )
    assert response.status_code == 200 and response.content == data


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
async def test_unsatisfiable_and_malformed_ranges(s3_env: Env, header: str, status: int) -> None:
    sha, _ = await stored(s3_env, cached=False)
    response = await s3_env.client.get(f"/media/{sha}", headers={"Range": header})
    assert response.status_code == status
    assert response.headers.get("content-range", "bytes */300000") == "bytes */300000"
    assert response.json()["error"]["field"] == "Range"


async def test_a_missing_object_is_a_404(s3_env: Env) -> None:
    response = await s3_env.client.get(f"/media/{'0' * 64}")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    assert (await s3_env.client.get("/media/not-a-hash")).status_code == 404


async def test_an_object_gone_from_the_bucket_is_a_404(s3_env: Env) -> None:
    sha, _ = await stored(s3_env, cached=False)
    store = bucket_of(s3_env)
    store.client.delete_object(Bucket=store.bucket, Key=store.key(sha))
    response = await s3_env.client.get(f"/media/{sha}", headers={"Range": "bytes=0-9"})
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


async def test_uploads_are_deduplicated_by_sha256(s3_env: Env) -> None:
    operator = await s3_env.as_role(Role.OPERATOR, "51")
    data = png((10, 200, 30))
    first = (await upload(s3_env, operator, data)).json()
    second = (await upload(s3_env, operator, data, filename="again.png")).json()
    sha = hashlib.sha256(data).hexdigest()
    assert first["sha256"] == second["sha256"] == sha and first["id"] == second["id"]
    store = bucket_of(s3_env)
    keys = [item["Key"] for item in store.client.list_objects_v2(Bucket=store.bucket)["Contents"]]
    assert keys == [f"media/{sha}"]
    served = await s3_env.client.get(f"/media/{sha}")
    assert served.status_code == 200 and served.content == data


async def test_a_refused_upload_leaves_no_object(s3_env: Env) -> None:
    operator = await s3_env.as_role(Role.OPERATOR, "51")
    response = await s3_env.client.post(
        "/api/v1/assets", files={"file": ("notes.png", b"not media at all")}, headers=operator
    )
    assert 400 <= response.status_code < 500
    store = bucket_of(s3_env)
    assert "Contents" not in store.client.list_objects_v2(Bucket=store.bucket)


async def test_an_unreachable_store_is_503_and_not_ready(s3_env: Env, s3_server: S3Server) -> None:
    sha, _ = await stored(s3_env, cached=False)
    await until(lambda: s3_env.container.blobs.check(), "media seen reachable")
    store = bucket_of(s3_env)
    store.client = s3_server.client(f"http://127.0.0.1:{free_port()}")  # nobody listens
    response = await s3_env.client.get(f"/media/{sha}")
    assert response.status_code == 503
    assert response.json()["error"] == {
        "code": "unavailable",
        "message": "media storage is unreachable; try again later",
    }

    async def health() -> int:
        return (await s3_env.client.get("/healthz")).status_code

    await until(lambda: _is(health(), 503), "/healthz not ready")
    body = (await s3_env.client.get("/healthz")).json()
    assert body["media"] == "error" and "media" in body["not_ready"]
    operator = await s3_env.as_role(Role.OPERATOR, "51")
    refused = await upload(s3_env, operator, png((9, 9, 9)))
    assert refused.status_code == 503 and refused.json()["error"]["code"] == "unavailable"
    store.client = s3_server.client()
    await until(lambda: _is(health(), 200), "/healthz ready again")


async def _is(status: object, wanted: int) -> bool:
    assert hasattr(status, "__await__")
    return await status == wanted  # type: ignore[no-any-return]
