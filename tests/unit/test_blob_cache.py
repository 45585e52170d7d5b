"""The bounded local copy of remote blobs: hash checked, least recently used go first."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from lianbo.adapters.blob_cache import BlobCache, BlobCorrupt


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fetch(cache: BlobCache, data: bytes, served: bytes | None = None) -> Path:
    return cache.fetch(sha(data), lambda temp: temp.write_bytes(data if served is None else served))


def test_a_copy_is_downloaded_once(tmp_path: Path) -> None:
    cache = BlobCache(tmp_path, cap=1000)
    calls: list[Path] = []
    data = b"x" * 100

    def download(temp: Path) -> None:
        calls.append(temp)
        temp.write_bytes(data)

    first = cache.fetch(sha(data), download)
    assert cache.fetch(sha(data), download) == first and len(calls) == 1
    assert first.read_bytes() == data


def test_bytes_that_do_not_hash_to_the_name_are_refused(tmp_path: Path) -> None:
    cache = BlobCache(tmp_path, cap=1000)
    with pytest.raises(BlobCorrupt):
        fetch(cache, b"wanted", served=b"something else")
    assert cache.get(sha(b"wanted")) is None and not list((tmp_path / "tmp").iterdir())


def test_the_least_recently_used_copies_go_past_the_cap(tmp_path: Path) -> None:
    cache = BlobCache(tmp_path, cap=250)
    a, b, c = (bytes([n]) * 100 for n in range(3))
    fetch(cache, a)
    fetch(cache, b)
    os.utime(cache.path(sha(a)), (1, 1))  # long unused
    os.utime(cache.path(sha(b)), (2, 2))
    assert cache.get(sha(b)) is not None  # used now: b is the newer
    fetch(cache, c)
    assert cache.get(sha(a)) is None
    assert cache.get(sha(b)) is not None and cache.get(sha(c)) is not None


def test_the_copy_just_fetched_stays_even_over_the_cap(tmp_path: Path) -> None:
    cache = BlobCache(tmp_path, cap=10)
    path = fetch(cache, b"y" * 100)
    assert path.is_file()
