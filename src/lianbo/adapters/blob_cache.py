"""A bounded local copy of remote blobs, for work that needs a file.

Probe, QC, renditions and hash tracks read files with PyAV/FFmpeg; with
media in object storage (ADR 0019) a blob is downloaded here by sha256 on
demand, its hash checked before it is used, and the least recently used
copies go once the folder is over its cap. Files appear by atomic rename,
so processes sharing the folder never see half a file; one evicted while
another process reads it stays readable until closed (POSIX unlink).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path

import structlog

from lianbo.adapters.blobs import hash_file

log = structlog.get_logger()


class BlobCorrupt(Exception):
    """A downloaded blob's bytes do not hash to its name."""


class BlobCache:
    """``<root>/<ab>/<sha256>`` copies, at most about ``cap`` bytes in all."""

    def __init__(self, root: Path, cap: int) -> None:
        self.root = root
        self.cap = cap

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def get(self, sha256: str) -> Path | None:
        """The copy if there is one, marked as just used."""
        path = self.path(sha256)
        try:
            os.utime(path)  # mtime is the "last used" the trim goes by
        except FileNotFoundError:
            return None
        return path

    def temp_path(self) -> Path:
        folder = self.root / "tmp"
        folder.mkdir(parents=True, exist_ok=True)
        return folder / uuid.uuid4().hex

    def put(self, temp: Path, sha256: str) -> Path:
        """Move a file whose hash is known to be ``sha256`` into the cache."""
        target = self.path(sha256)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(temp, target)  # a rename on one filesystem; a copy across
        self.trim(keep=sha256)
        return target

    def fetch(self, sha256: str, download: Callable[[Path], None]) -> Path:
        """The copy, downloading it first (hash checked) when absent."""
        hit = self.get(sha256)
        if hit is not None:
            return hit
        temp = self.temp_path()
        try:
            download(temp)
            got, _ = hash_file(temp)
            if got != sha256:
                raise BlobCorrupt(f"stored object {sha256} hashes to {got}")
            return self.put(temp, sha256)
        finally:
            temp.unlink(missing_ok=True)

    def drop(self, sha256: str) -> None:
        self.path(sha256).unlink(missing_ok=True)
        shutil.rmtree(self.root / "derived" / sha256, ignore_errors=True)

    def derived_dir(self, sha256: str) -> Path:
        folder = self.root / "derived" / sha256
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def trim(self, keep: str | None = None) -> None:
        """Remove least recently used copies until the total fits the cap."""
        copies = list(self._copies())
        total = sum(size for _, size, _ in copies)
        for path, size, _ in sorted(copies, key=lambda copy: copy[2]):
            if total <= self.cap:
                break
            if path.name == keep:
                continue
            with contextlib.suppress(FileNotFoundError):  # another process got there first
                path.unlink()
            total -= size
            log.debug("media cache evicted", sha256=path.name, size=size)

    def _copies(self) -> list[tuple[Path, int, float]]:
        found: list[tuple[Path, int, float]] = []
        for folder in self.root.glob("??"):
            for path in folder.iterdir():
                with contextlib.suppress(FileNotFoundError):
                    stat = path.stat()
                    found.append((path, stat.st_size, stat.st_mtime))
        return found
