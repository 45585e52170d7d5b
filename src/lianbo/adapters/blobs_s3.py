"""Media in S3-compatible object storage (AWS S3, MinIO, Aliyun OSS, …).

Processes on different hosts share media through a bucket instead of a
shared filesystem (ADR 0019). Objects are keyed ``<prefix><sha256>``, the
same content addressing as the local store. An upload is written to a local
temp file first (it must be hashed before its key is known, and probe needs
a file anyway), then sent with boto3's transfer manager, in parts above the
multipart threshold, read from disk part by part, never whole in memory.
Reads for ``/media/`` pass the Range on to the store; work that needs a
file gets a hash-checked copy from the bounded ``BlobCache``.

boto3 is synchronous: every method here blocks, and async callers hop to a
thread (the port says so).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import structlog
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import BotoCoreError, ClientError

from lianbo.adapters.blob_cache import BlobCache, BlobCorrupt
from lianbo.adapters.blobs import CHUNK, BlobWriter, hash_file
from lianbo.domain.errors import NotFound, Unavailable
from lianbo.domain.ports import StoredBlob

log = structlog.get_logger()

UNREACHABLE = "media storage is unreachable; try again later"
MISSING = ("404", "NoSuchKey", "NotFound")


class S3BlobStore:
    """A ``BlobStore`` over one bucket (and key prefix), with a local cache."""

    def __init__(
        self,
        client: Any,
        bucket: str,
        cache: BlobCache,
        *,
        prefix: str = "",
        multipart_threshold: int = 64 * 1024**2,
    ) -> None:
        self.client = client
        self.bucket = bucket
        self.cache = cache
        self.prefix = prefix
        self.transfer = TransferConfig(
            multipart_threshold=multipart_threshold,
            multipart_chunksize=multipart_threshold,
            max_concurrency=4,  # at most 4 parts in flight
        )
        self._reachable = True
        self._lock = threading.Lock()
        self._probe: threading.Thread | None = None

    def key(self, sha256: str) -> str:
        return f"{self.prefix}{sha256}"

    def exists(self, sha256: str) -> bool:
        return self.size(sha256) is not None

    def size(self, sha256: str) -> int | None:
        try:
            head = self._call(self.client.head_object, Bucket=self.bucket, Key=self.key(sha256))
        except NotFound:
            return None
        return int(head["ContentLength"])

    def path(self, sha256: str) -> Path:
        try:
            return self.cache.fetch(sha256, lambda temp: self._download(sha256, temp))
        except BlobCorrupt:
            log.error("stored media object does not match its hash", sha256=sha256)
            raise Unavailable("the stored media file is damaged") from None

    def cached(self, sha256: str) -> Path | None:
        return self.cache.get(sha256)

    def read(self, sha256: str, start: int, stop: int) -> Iterator[bytes]:
        """Opens the object now (so a missing or unreachable one raises here,
        before a response starts); the bytes follow as they are iterated."""
        if stop <= start:
            return iter(())
        answer = self._call(
            self.client.get_object,
            Bucket=self.bucket,
            Key=self.key(sha256),
            Range=f"bytes={start}-{stop - 1}",
        )
        return _chunks(answer["Body"])

    def temp_path(self) -> Path:
        return self.cache.temp_path()

    def writer(self, limit: int) -> BlobWriter:
        return BlobWriter(self, limit)

    def adopt(self, temp: Path, sha256: str | None = None, size: int | None = None) -> StoredBlob:
        if sha256 is None or size is None:
            sha256, size = hash_file(temp)
        try:
            existed = self.exists(sha256)
            if not existed:
                self._call(
                    self.client.upload_file,
                    str(temp),
                    self.bucket,
                    self.key(sha256),
                    Config=self.transfer,
                )
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        return StoredBlob(sha256, size, self.cache.put(temp, sha256), existed=existed)

    def delete(self, sha256: str) -> None:
        self._call(self.client.delete_object, Bucket=self.bucket, Key=self.key(sha256))
        self.cache.drop(sha256)

    def derived_dir(self, sha256: str) -> Path:
        return self.cache.derived_dir(sha256)

    def check(self) -> bool:
        """The last known reachability, never blocking: ``/healthz`` runs on
        the event loop every few seconds; each call starts one background
        ``HeadBucket`` (if none is under way) whose answer the next call sees."""
        with self._lock:
            if self._probe is None or not self._probe.is_alive():
                self._probe = threading.Thread(target=self._ping, daemon=True)
                self._probe.start()
            return self._reachable

    def _ping(self) -> None:
        try:
            self._call(self.client.head_bucket, Bucket=self.bucket)
        except NotFound:
            self._went(reachable=False, reason="NoSuchBucket")
        except Unavailable:
            pass  # _call noted it

    def _download(self, sha256: str, temp: Path) -> None:
        self._call(
            self.client.download_file,
            self.bucket,
            self.key(sha256),
            str(temp),
            Config=self.transfer,
        )

    def _call(self, method: Any, *args: Any, **kwargs: Any) -> Any:
        """One request; a missing object is ``NotFound``, anything else that
        fails (connection, timeout, 5xx, refused credentials) ``Unavailable``,
        logged once per change, by kind only (never a credential)."""
        try:
            answer = method(*args, **kwargs)
        except ClientError as error:
            code = str(error.response.get("Error", {}).get("Code", ""))
            if code in MISSING:
                self._went(reachable=True)
                raise NotFound("no such media") from None
            self._went(reachable=False, reason=code)
            raise Unavailable(UNREACHABLE) from None
        except BotoCoreError as error:
            self._went(reachable=False, reason=type(error).__name__)
            raise Unavailable(UNREACHABLE) from None
        self._went(reachable=True)
        return answer

    def _went(self, *, reachable: bool, reason: str = "") -> None:
        with self._lock:
            changed, self._reachable = self._reachable != reachable, reachable
        if changed and reachable:
            log.info("media storage reachable again", bucket=self.bucket)
        elif changed:
            log.warning("media storage unreachable", bucket=self.bucket, reason=reason)


def _chunks(body: Any) -> Iterator[bytes]:
    try:
        while chunk := body.read(CHUNK):
            yield chunk
    finally:
        body.close()


def s3_client(
    *,
    endpoint_url: str | None,
    region: str | None,
    access_key_id: str | None = None,
    secret_access_key: str | None = None,
    addressing_style: str = "auto",
) -> Any:
    """A boto3 S3 client. Credentials given here win; otherwise boto3's
    usual chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, profile, role)."""
    import boto3
    from botocore.config import Config

    config = Config(
        connect_timeout=5,
        read_timeout=60,
        retries={"max_attempts": 3, "mode": "standard"},
        s3={"addressing_style": addressing_style},
        # Checksums only where S3 requires them: several S3-compatible stores
        # refuse the CRC headers boto3 sends by default since 1.36.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id=access_key_id,
        aws_secret_access_key=secret_access_key,
        config=config,
    )
