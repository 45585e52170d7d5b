"""Local content-addressed blob store: files named by their sha256.

Uploads stream through a ``BlobWriter`` that hashes as it writes, so a file
is never held in memory; the finished file is moved (same filesystem, atomic
rename) to ``<root>/<ab>/<sha256>``. Writes are plain blocking ``write``
calls on purpose: at 64 KiB chunks they land in the page cache in
microseconds, and a thread hop per chunk would cost more than it saves.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import queue
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from lianbo.domain.errors import TooLarge
from lianbo.domain.ports import BlobStore, StoredBlob

__all__ = ["CHUNK", "BlobWriter", "LocalBlobStore", "StoredBlob", "hash_file", "read_file"]

CHUNK = 1024 * 1024


class _Pipe:
    """A worker thread fed through a bounded queue.

    sha256 and file writes both release the GIL on large buffers, so hashing
    in one thread and writing in another, while the event loop parses the
    next chunk, uses both cores instead of one (upload speed doubles).
    """

    def __init__(self, work: Callable[[bytes | memoryview], object], depth: int = 64) -> None:
        self._work = work
        self._queue: queue.Queue[bytes | memoryview | None] = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            if self._error is None:
                try:
                    self._work(item)
                except BaseException as error:  # re-raised by close()
                    self._error = error

    def put(self, item: bytes | memoryview) -> None:
        self._queue.put(item)

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join()
        if self._error is not None:
            raise self._error


class BlobWriter:
    """Receives bytes, hashes them, refuses more than ``limit``."""

    def __init__(self, store: BlobStore, limit: int) -> None:
        self.store = store
        self.limit = limit
        self.size = 0
        self._hash = hashlib.sha256()
        self.temp = store.temp_path()
        self._file: BinaryIO = open(self.temp, "wb")  # noqa: SIM115 - closed in finish/abort
        self._hashing = _Pipe(self._hash.update)
        self._writing = _Pipe(self._file.write)
        self._open = True

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.size += len(data)
        if self.size > self.limit:
            self.abort()
            raise TooLarge(f"file is larger than the limit of {self.limit} bytes", field="file")
        chunk = bytes(data) if isinstance(data, bytearray) else data
        self._hashing.put(chunk)
        self._writing.put(chunk)

    def finish(self) -> StoredBlob:
        self._close()
        return self.store.adopt(self.temp, self._hash.hexdigest(), self.size)

    def abort(self) -> None:
        with contextlib.suppress(OSError):
            self._close()
        self.temp.unlink(missing_ok=True)

    def _close(self) -> None:
        if not self._open:
            return
        self._open = False
        try:
            self._hashing.close()
            self._writing.close()
        finally:
            self._file.close()


class LocalBlobStore:
    """Blobs under one directory, with a ``tmp`` folder on the same filesystem."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def size(self, sha256: str) -> int | None:
        try:
            return self.path(sha256).stat().st_size
        except FileNotFoundError:
            return None

    def cached(self, sha256: str) -> Path | None:
        path = self.path(sha256)
        return path if path.is_file() else None

    def read(self, sha256: str, start: int, stop: int) -> Iterator[bytes]:
        return read_file(self.path(sha256), start, stop)

    def check(self) -> bool:
        return True  # a local directory: the process's own disk

    def temp_path(self) -> Path:
        folder = self.root / "tmp"
        folder.mkdir(parents=True, exist_ok=True)
        return folder / uuid.uuid4().hex

    def writer(self, limit: int) -> BlobWriter:
        return BlobWriter(self, limit)

    def adopt(self, temp: Path, sha256: str | None = None, size: int | None = None) -> StoredBlob:
        """Move a finished temp file into place (hashing it if not yet hashed)."""
        if sha256 is None or size is None:
            sha256, size = hash_file(temp)
        target = self.path(sha256)
        if target.exists():
            temp.unlink(missing_ok=True)
            return StoredBlob(sha256, size, target, existed=True)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(temp, target)
        return StoredBlob(sha256, size, target, existed=False)

    def delete(self, sha256: str) -> None:
        self.path(sha256).unlink(missing_ok=True)

    def derived_dir(self, sha256: str) -> Path:
        """Where thumbnails, sprites and renditions of a blob live."""
        folder = self.root / "derived" / sha256
        folder.mkdir(parents=True, exist_ok=True)
        return folder


def read_file(path: Path, start: int, stop: int) -> Iterator[bytes]:
    """Bytes ``start`` to ``stop`` of a file, in chunks."""
    with path.open("rb") as handle:
        handle.seek(start)
        left = stop - start
        while left > 0 and (chunk := handle.read(min(CHUNK, left))):
            left -= len(chunk)
            yield chunk


def hash_file(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size
