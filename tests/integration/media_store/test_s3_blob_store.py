"""The S3 media store against moto's S3 server (real HTTP, real boto3)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from lianbo.adapters.blobs_s3 import S3BlobStore
from lianbo.domain.errors import NotFound, TooLarge, Unavailable
from tests.support.s3 import PART, S3Server
from tests.support.services import free_port
from tests.support.waiting import until

pytestmark = pytest.mark.integration


def put(store: S3BlobStore, data: bytes, chunk: int = 1024**2) -> tuple[str, bool]:
    writer = store.writer(10**9)
    for at in range(0, len(data), chunk):
        writer.write(data[at : at + chunk])
    blob = writer.finish()
    assert blob.size == len(data) and blob.path.read_bytes() == data
    return blob.sha256, blob.existed


def etag(store: S3BlobStore, sha256: str) -> str:
    return str(store.client.head_object(Bucket=store.bucket, Key=store.key(sha256))["ETag"])


def test_a_blob_is_keyed_by_its_sha256_and_stored_once(s3_server: S3Server, tmp_path: Path) -> None:
    store = s3_server.store(tmp_path / "cache")
    data = os.urandom(300_000)
    sha, existed = put(store, data)
    assert sha == hashlib.sha256(data).hexdigest() and not existed
    assert store.key(sha) == f"m/{sha}"
    assert store.exists(sha) and store.size(sha) == len(data)
    again, existed = put(store, data)
    assert again == sha and existed
    listed = store.client.list_objects_v2(Bucket=store.bucket)["Contents"]
    assert [item["Key"] for item in listed] == [f"m/{sha}"]


def test_a_file_over_the_threshold_goes_up_in_parts(s3_server: S3Server, tmp_path: Path) -> None:
    store = s3_server.store(tmp_path / "cache")
    data = os.urandom(2 * PART + 12345)
    sha, _ = put(store, data)
    assert etag(store, sha).strip('"').endswith("-3")  # a multipart upload of 3 parts
    assert b"".join(store.read(sha, 0, len(data))) == data


def test_a_small_file_goes_up_whole(s3_server: S3Server, tmp_path: Path) -> None:
    store = s3_server.store(tmp_path / "cache")
    sha, _ = put(store, b"tiny")
    assert "-" not in etag(store, sha)


def test_ranges_are_read_from_the_store(s3_server: S3Server, tmp_path: Path) -> None:
    store = s3_server.store(tmp_path / "cache")
    data = os.urandom(3 * 1024**2 + 7)
    sha, _ = put(store, data)
    assert b"".join(store.read(sha, 1000, 2000)) == data[1000:2000]
    assert b"".join(store.read(sha, len(data) - 1, len(data))) == data[-1:]
    assert b"".join(store.read(sha, 5, 5)) == b""


def test_a_file_is_fetched_into_the_cache_when_needed(s3_server: S3Server, tmp_path: Path) -> None:
    store = s3_server.store(tmp_path / "cache")
    data = os.urandom(200_000)
    sha, _ = put(store, data)
    store.cache.drop(sha)
    assert store.cached(sha) is None
    path = store.path(sha)
    assert path.read_bytes() == data and store.cached(sha) == path


def test_a_damaged_object_is_not_used(s3_server: S3Server, tmp_path: Path) -> None:
    store = s3_server.store(tmp_path / "cache")
    sha = hashlib.sha256(b"the real bytes").hexdigest()
    store.client.put_object(Bucket=store.bucket, Key=store.key(sha), Body=b"other bytes")
    with pytest.raises(Unavailable, match="damaged"):
        store.path(sha)
    assert store.cached(sha) is None
    assert not list((tmp_path / "cache" / "tmp").iterdir())


def test_a_missing_object_is_not_found(s3_server: S3Server, tmp_path: Path) -> None:
    store = s3_server.store(tmp_path / "cache")
    sha = "0" * 64
    assert not store.exists(sha) and store.size(sha) is None
    with pytest.raises(NotFound):
        store.path(sha)
    with pytest.raises(NotFound):
        store.read(sha, 0, 10)


def test_delete_removes_the_object_and_the_copy(s3_server: S3Server, tmp_path: Path) -> None:
    store = s3_server.store(tmp_path / "cache")
    sha, _ = put(store, b"to be deleted")
    store.delete(sha)
    assert not store.exists(sha) and store.cached(sha) is None
    store.delete(sha)  # twice is fine


def test_an_upload_over_the_limit_leaves_nothing(s3_server: S3Server, tmp_path: Path) -> None:
    store = s3_server.store(tmp_path / "cache")
    writer = store.writer(10)
    with pytest.raises(TooLarge):
        writer.write(b"x" * 11)
    assert "Contents" not in store.client.list_objects_v2(Bucket=store.bucket)
    assert not list((tmp_path / "cache" / "tmp").iterdir())


async def test_an_unreachable_store_is_a_clear_error(s3_server: S3Server, tmp_path: Path) -> None:
    store = s3_server.store(tmp_path / "cache")
    sha, _ = put(store, b"kept")
    await until(store.check, "reachable")
    store.client = s3_server.client(f"http://127.0.0.1:{free_port()}")  # nobody listens
    with pytest.raises(Unavailable, match="unreachable"):
        store.size(sha)
    with pytest.raises(Unavailable):
        put(store, b"new bytes")
    await until(lambda: not store.check(), "seen unreachable")
    store.client = s3_server.client()
    await until(store.check, "seen reachable again")  # recovers by itself


def test_unreachability_is_logged_once_per_change(s3_server: S3Server, tmp_path: Path) -> None:
    store = s3_server.store(tmp_path / "cache")
    with capture_logs() as logs:
        store.client = s3_server.client(f"http://127.0.0.1:{free_port()}")
        for _ in range(2):
            with pytest.raises(Unavailable):
                store.size("0" * 64)
        store.client = s3_server.client()
        assert store.size("0" * 64) is None
        assert store.size("0" * 64) is None
    events = [entry["event"] for entry in logs if "media storage" in entry["event"]]
    assert events == ["media storage unreachable", "media storage reachable again"]
    assert "testing-secret" not in repr(logs)
