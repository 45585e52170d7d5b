"""Where media live: a local folder or S3-compatible object storage."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings


class MediaStoreSettings(BaseSettings):
    """The media store and its local cache (a part of ``Settings``)."""

    # Where media live: "local" (media_dir) or S3-compatible object storage
    # (AWS S3, MinIO, Aliyun OSS, …) shared by processes on several hosts
    # (ADR 0019). Credentials: the standard AWS variables
    # (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) or the two settings below.
    media_store: Literal["local", "s3"] = "local"
    s3_endpoint_url: str | None = None  # None = AWS itself
    s3_bucket: str = ""
    s3_region: str | None = None
    s3_prefix: str = Field(default="", max_length=512)
    # "virtual" for Aliyun OSS; "auto" lets boto3 choose (path style for an IP address).
    s3_addressing_style: Literal["auto", "path", "virtual"] = "auto"
    s3_access_key_id: str | None = None
    s3_secret_access_key: SecretStr | None = None
    s3_multipart_threshold_bytes: int = Field(default=64 * 1024**2, ge=5 * 1024**2)
    # S3: a local copy of media that need a file (probe, QC, renditions),
    # fetched by sha256 on demand and hash-checked; oldest-used go past the cap.
    # Default <data_dir>/media-cache.
    media_cache_dir: Path | None = None
    media_cache_bytes: int = Field(default=20 * 1024**3, ge=1)

    @model_validator(mode="after")
    def _s3_needs_a_bucket(self) -> MediaStoreSettings:
        if self.media_store == "s3" and not self.s3_bucket:
            raise ValueError("LIANBO_MEDIA_STORE=s3 needs LIANBO_S3_BUCKET")
        if (self.s3_access_key_id is None) != (self.s3_secret_access_key is None):
            raise ValueError(
                "give both LIANBO_S3_ACCESS_KEY_ID and LIANBO_S3_SECRET_ACCESS_KEY, or neither"
            )
        return self
