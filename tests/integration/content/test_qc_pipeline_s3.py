"""QC of media kept in S3 (moto's server): the job gets a hash-checked
local copy from the cache, and what it makes goes to the bucket."""

from __future__ import annotations

import asyncio
import hashlib

import pytest

from lianbo.adapters.blobs_s3 import S3BlobStore
from lianbo.domain.roles import Role
from lianbo.services.qc_job import Progress, run_qc
from tests.integration.conftest import Media
from tests.support.content import png
from tests.support.env import Env

pytestmark = pytest.mark.integration


async def test_a_clip_in_the_bucket_is_checked_through_the_cache(s3_env: Env, media: Media) -> None:
    store = s3_env.container.blobs
    assert isinstance(store, S3BlobStore)
    operator = await s3_env.as_role(Role.OPERATOR, "51")
    data = await asyncio.to_thread(media.get("black_clip").read_bytes)
    response = await s3_env.client.post(
        "/api/v1/assets", files={"file": ("clip.mp4", data)}, headers=operator
    )
    assert response.status_code == 201, response.text
    asset = response.json()
    store.cache.drop(asset["sha256"])  # as on a worker of another host: no copy yet

    await run_qc(s3_env.container, asset["id"], Progress())

    detail = (await s3_env.client.get(f"/api/v1/assets/{asset['id']}", headers=operator)).json()
    assert detail["qc_status"] == "warnings" and detail["phash_seconds"] == 5
    assert any(f["rule"] == "black" for f in detail["qc"]["findings"])
    assert store.cached(asset["sha256"]) is not None  # fetched for the job
    names = {r["name"] for r in detail["renditions"]}
    assert names == {"poster", "sprite", "home-1080p"}
    for rendition in detail["renditions"]:
        assert store.size(rendition["sha256"]) == rendition["size"]  # in the bucket
        store.cache.drop(rendition["sha256"])
        served = await s3_env.client.get(f"/media/{rendition['sha256']}")
        assert served.status_code == 200 and len(served.content) == rendition["size"]


async def test_a_resumable_upload_lands_in_the_bucket(s3_env: Env) -> None:
    store = s3_env.container.blobs
    assert isinstance(store, S3BlobStore)
    operator = await s3_env.as_role(Role.OPERATOR, "51")
    data = png((200, 10, 10))
    tus = operator | {"Tus-Resumable": "1.0.0"}
    created = await s3_env.client.post(
        "/api/v1/uploads", headers=tus | {"Upload-Length": str(len(data))}
    )
    assert created.status_code == 201, created.text
    half = len(data) // 2
    octets = tus | {"Content-Type": "application/offset+octet-stream"}
    for offset, part in ((0, data[:half]), (half, data[half:])):
        patched = await s3_env.client.patch(
            created.headers["location"],
            content=part,
            headers=octets | {"Upload-Offset": str(offset)},
        )
        assert patched.status_code == 204, patched.text
    sha = hashlib.sha256(data).hexdigest()
    assert store.size(sha) == len(data)
    store.cache.drop(sha)
    served = await s3_env.client.get(f"/media/{sha}")
    assert served.status_code == 200 and served.content == data
