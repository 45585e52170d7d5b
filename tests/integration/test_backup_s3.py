"""Backup and restore with media in S3 (moto's server): the bytes come from
the bucket and go into the restored deployment's bucket."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from lianbo.adapters.blobs_s3 import S3BlobStore
from lianbo.bootstrap import bootstrap, store_dump
from lianbo.domain.backup import media_path
from lianbo.domain.roles import Role
from lianbo.services.backup import backup
from lianbo.services.restore import restore
from tests.integration.backup_helpers import empty_target
from tests.support.content import png, upload
from tests.support.env import Env
from tests.support.s3 import S3Server

pytestmark = pytest.mark.integration


async def test_media_are_backed_up_from_and_restored_to_buckets(
    s3_env: Env, s3_server: S3Server, tmp_path: Path
) -> None:
    operator = await s3_env.as_role(Role.OPERATOR, "51")
    data = png((1, 2, 3))
    assert (await upload(s3_env, operator, data)).status_code == 201
    sha = hashlib.sha256(data).hexdigest()
    blobs = s3_env.container.blobs
    assert isinstance(blobs, S3BlobStore)
    blobs.cache.drop(sha)  # read from the bucket, not the copy
    settings = s3_env.container.settings
    manifest = await backup(
        settings, store_dump(settings), tmp_path / "b", s3_env.clock, blobs=blobs
    )
    assert manifest.media.included and not manifest.media.missing
    assert (tmp_path / "b" / media_path(sha)).read_bytes() == data

    target = s3_server.settings(await empty_target(s3_env, tmp_path), tmp_path / "cache2")
    into = s3_server.store(tmp_path / "cache2", bucket=target.s3_bucket, prefix="media/")
    await restore(target, store_dump(target), tmp_path / "b", blobs=into)
    assert into.size(sha) == len(data)
    restored = bootstrap(target)
    try:
        assert restored.blobs.exists(sha)
    finally:
        await restored.close()
