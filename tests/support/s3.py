"""A local S3 stand-in for the S3 media store's tests: moto in server mode.

No real S3 server installs on these machines; moto's server speaks the S3
HTTP API on a free port of this host, so the tests run boto3 over real HTTP
against it (ADR 0019). What moto does not model (consistency under load,
a real store's throughput and its quirks) these tests do not cover.
"""

from __future__ import annotations

import itertools
import shutil
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from lianbo.adapters.blob_cache import BlobCache
from lianbo.adapters.blobs_s3 import S3BlobStore, s3_client
from lianbo.api.app import create_app
from lianbo.bootstrap import bootstrap
from lianbo.config import Settings
from tests.support.clock import FakeClock
from tests.support.env import Env
from tests.support.services import free_port

KEY_ID, SECRET, REGION = "testing", "testing-secret", "us-east-1"
PART = 5 * 1024**2  # S3's (and moto's) smallest multipart part

_buckets = itertools.count()


@dataclass(frozen=True)
class S3Server:
    endpoint: str

    def client(self, endpoint: str | None = None) -> Any:
        return s3_client(
            endpoint_url=endpoint or self.endpoint,
            region=REGION,
            access_key_id=KEY_ID,
            secret_access_key=SECRET,
        )

    def bucket(self) -> str:
        """A new, empty bucket."""
        name = f"lianbo-test-{next(_buckets)}"
        self.client().create_bucket(Bucket=name)
        return name

    def store(
        self, cache: Path, *, bucket: str | None = None, cap: int = 1024**3, prefix: str = "m/"
    ) -> S3BlobStore:
        return S3BlobStore(
            self.client(),
            bucket or self.bucket(),
            BlobCache(cache, cap),
            prefix=prefix,
            multipart_threshold=PART,
        )

    def settings(self, settings: Settings, cache: Path) -> Settings:
        """``settings`` with media in a new bucket of this server."""
        return settings.model_copy(
            update={
                "media_store": "s3",
                "s3_endpoint_url": self.endpoint,
                "s3_bucket": self.bucket(),
                "s3_region": REGION,
                "s3_prefix": "media/",
                "s3_access_key_id": KEY_ID,
                "s3_secret_access_key": SecretStr(SECRET),
                "s3_multipart_threshold_bytes": PART,
                "media_cache_dir": cache,
            }
        )


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """moto's S3 server on a free local port, for the whole run."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield S3Server(f"http://127.0.0.1:{port}")
    finally:
        server.stop()


@pytest.fixture
async def s3_env(s3_server: S3Server, tmp_path: Path, sqlite_template: Path) -> AsyncIterator[Env]:
    """The app on SQLite with its media in a new bucket of the moto server."""
    import httpx

    data_dir = tmp_path / "data"
    shutil.copytree(sqlite_template, data_dir)
    settings = s3_server.settings(Settings(data_dir=data_dir), tmp_path / "cache")
    clock = FakeClock()
    container = bootstrap(settings, clock=clock)
    app = create_app(container=container)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://lianbo.test") as client:
        yield Env(container, client, clock, "sqlite")
    await container.close()
