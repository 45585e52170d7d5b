"""LIANBO_MEDIA_STORE and the S3 settings."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from lianbo.adapters.blobs import LocalBlobStore
from lianbo.adapters.blobs_s3 import S3BlobStore
from lianbo.bootstrap import blob_store
from lianbo.config import Settings


def test_media_stay_local_by_default(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    assert settings.media_store == "local"
    assert isinstance(blob_store(settings), LocalBlobStore)


def test_s3_needs_a_bucket(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="LIANBO_S3_BUCKET"):
        Settings(data_dir=tmp_path, media_store="s3")


def test_a_key_id_needs_its_secret(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="both"):
        Settings(data_dir=tmp_path, media_store="s3", s3_bucket="b", s3_access_key_id="x")


def test_s3_settings_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIANBO_MEDIA_STORE", "s3")
    monkeypatch.setenv("LIANBO_S3_BUCKET", "media")
    monkeypatch.setenv("LIANBO_S3_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("LIANBO_S3_PREFIX", "lianbo/")
    monkeypatch.setenv("LIANBO_S3_ACCESS_KEY_ID", "lianbo")
    monkeypatch.setenv("LIANBO_S3_SECRET_ACCESS_KEY", "very-secret")
    settings = Settings(data_dir=tmp_path)
    assert "very-secret" not in repr(settings)
    store = blob_store(settings)
    assert isinstance(store, S3BlobStore)
    assert store.bucket == "media" and store.key("ab" * 32) == f"lianbo/{'ab' * 32}"
    assert store.cache.root == tmp_path / "media-cache"
