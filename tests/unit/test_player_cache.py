"""The media cache: sha256 checks, resumed downloads, the size budget."""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from lianbo.player.cache import CacheError, MediaCache
from lianbo.protocol.manifest import FileRef

DATA = bytes(range(256)) * 40  # 10 KiB
SHA = hashlib.sha256(DATA).hexdigest()
FILE = FileRef("a", SHA, len(DATA), "video/mp4", "http://cdn/media/" + SHA)


class Broken(httpx.AsyncByteStream):
    """A body that dies after ``keep`` bytes (a dropped connection)."""

    def __init__(self, data: bytes, keep: int) -> None:
        self.data, self.keep = data, keep

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.data[: self.keep]
        raise httpx.ReadError("connection reset")


class Origin:
    """A media server: honours Range, can lie, can drop the connection."""

    def __init__(self, data: bytes = DATA) -> None:
        self.data = data
        self.ranges: list[str | None] = []
        self.drop_after: int | None = None
        self.ignore_range = False

    def __call__(self, request: httpx.Request) -> httpx.Response:
        wanted = request.headers.get("range")
        self.ranges.append(wanted)
        if wanted and not self.ignore_range:
            start = int(wanted.removeprefix("bytes=").rstrip("-"))
            body = self.data[start:]
            headers = {"Content-Range": f"bytes {start}-{len(self.data) - 1}/{len(self.data)}"}
            return httpx.Response(206, content=body, headers=headers)
        if self.drop_after is not None:
            keep, self.drop_after = self.drop_after, None
            return httpx.Response(200, stream=Broken(self.data, keep))
        return httpx.Response(200, content=self.data)


def cache_with(tmp: Path, handler: Origin, budget: int = 10**9) -> MediaCache:
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return MediaCache(tmp / "media", budget, client)


async def test_a_file_is_kept_only_once_its_sha256_matches(tmp_path: Path) -> None:
    cache = cache_with(tmp_path, Origin())
    path = await cache.ensure(FILE, [FILE.url], keep=set())
    assert path.read_bytes() == DATA and cache.path_of(SHA) == path
    assert not list(cache.root.glob("*.part"))


async def test_wrong_bytes_are_deleted_and_the_reason_recorded(tmp_path: Path) -> None:
    forged = bytes(reversed(DATA))  # same size, other content
    cache = cache_with(tmp_path, Origin(forged))
    with pytest.raises(CacheError) as refused:
        await cache.ensure(FILE, [FILE.url], keep=set())
    assert refused.value.reason == "sha256 mismatch"
    assert cache.failures == {SHA: "sha256 mismatch"}
    assert cache.path_of(SHA) is None and not any(cache.root.iterdir())


async def test_a_hijacked_cdn_falls_back_to_the_origin(tmp_path: Path) -> None:
    def two_hosts(request: httpx.Request) -> httpx.Response:
        if request.url.host == "cdn":
            return httpx.Response(200, content=bytes(len(DATA)))
        return httpx.Response(200, content=DATA)

    client = httpx.AsyncClient(transport=httpx.MockTransport(two_hosts))
    cache = MediaCache(tmp_path, 10**9, client)
    await cache.ensure(FILE, [FILE.url, f"http://origin/media/{SHA}"], keep=set())
    assert cache.path_of(SHA) is not None and cache.failures == {}


async def test_a_dropped_download_resumes_with_range(tmp_path: Path) -> None:
    origin = Origin()
    origin.drop_after = 4000
    cache = cache_with(tmp_path, origin)
    with pytest.raises(CacheError, match="download failed"):
        await cache.ensure(FILE, [FILE.url], keep=set())
    part = cache.root / f"{SHA}.part"
    assert part.stat().st_size == 4000
    path = await cache.ensure(FILE, [FILE.url], keep=set())
    assert origin.ranges == [None, "bytes=4000-"]
    assert path.read_bytes() == DATA and not part.exists()


async def test_a_source_that_ignores_range_starts_over(tmp_path: Path) -> None:
    origin = Origin()
    origin.ignore_range = True
    cache = cache_with(tmp_path, origin)
    (cache.root / f"{SHA}.part").write_bytes(b"stale bytes from some other attempt")
    path = await cache.ensure(FILE, [FILE.url], keep=set())
    assert origin.ranges == ["bytes=35-"] and path.read_bytes() == DATA


async def test_a_source_sending_too_much_is_refused(tmp_path: Path) -> None:
    cache = cache_with(tmp_path, Origin(DATA + b"more"))
    with pytest.raises(CacheError, match="size mismatch"):
        await cache.ensure(FILE, [FILE.url], keep=set())
    assert not any(cache.root.iterdir())


async def test_a_file_changed_on_disk_is_never_given_out_and_is_fetched_again(
    tmp_path: Path,
) -> None:
    origin = Origin()
    cache = cache_with(tmp_path, origin)
    stale: list[int] = []
    cache.on_stale = lambda: stale.append(1)
    path = await cache.ensure(FILE, [FILE.url], keep=set())
    cache.touch(SHA)  # our own use changes the mtime: still trusted
    assert cache.path_of(SHA) == path and stale == []
    path.write_bytes(bytes(reversed(DATA)))  # same size, other bytes ...
    os.utime(path, ns=(1_000_000_000, 1_000_000_000))  # ... and another mtime
    assert cache.path_of(SHA) is None and stale == [1]
    assert await cache.ensure(FILE, [FILE.url], keep=set()) == path
    assert path.read_bytes() == DATA and len(origin.ranges) == 2  # fetched anew
    assert cache.path_of(SHA) == path


async def test_a_file_that_grew_is_checked_again(tmp_path: Path) -> None:
    cache = cache_with(tmp_path, Origin())
    path = await cache.ensure(FILE, [FILE.url], keep=set())
    with path.open("ab") as grown:
        grown.write(b"appended")
    assert cache.path_of(SHA) is None
    assert await cache.ensure(FILE, [FILE.url], keep=set()) == path
    assert path.read_bytes() == DATA


async def test_after_a_restart_each_file_is_hashed_before_it_is_used(tmp_path: Path) -> None:
    origin = Origin()
    await cache_with(tmp_path, origin).ensure(FILE, [FILE.url], keep=set())
    restarted = cache_with(tmp_path, origin)
    assert restarted.path_of(SHA) is None  # not played before it is hashed again
    path = await restarted.ensure(FILE, [FILE.url], keep=set())
    assert restarted.path_of(SHA) == path and len(origin.ranges) == 1  # good: not fetched

    forged = bytes(reversed(DATA))  # changed while the player was stopped
    path.write_bytes(forged)
    again = cache_with(tmp_path, origin)
    assert again.path_of(SHA) is None
    assert await again.ensure(FILE, [FILE.url], keep=set()) == path
    assert path.read_bytes() == DATA and len(origin.ranges) == 2


def _stock(cache: MediaCache, name: str, size: int, age: int) -> str:
    sha = hashlib.sha256(name.encode()).hexdigest()
    path = cache.root / sha
    path.write_bytes(b"x" * size)
    os.utime(path, (1_000_000 + age, 1_000_000 + age))
    return sha


def test_room_is_made_least_recently_used_first(tmp_path: Path) -> None:
    cache = cache_with(tmp_path, Origin(), budget=1000)
    old, middle, new = (_stock(cache, n, 300, age) for n, age in [("o", 1), ("m", 2), ("n", 3)])
    evicted = cache.make_room(300, keep=set())
    assert evicted == [old] and cache.used_bytes() == 600
    cache.touch(middle)  # played just now: no longer the oldest
    assert cache.make_room(700, keep=set()) == [new]
    assert (cache.root / middle).is_file()


def test_files_a_manifest_needs_are_never_evicted(tmp_path: Path) -> None:
    cache = cache_with(tmp_path, Origin(), budget=1000)
    needed = _stock(cache, "needed", 600, age=1)
    spare = _stock(cache, "spare", 300, age=2)
    assert cache.make_room(400, keep={needed}) == [spare]
    with pytest.raises(CacheError) as full:
        cache.make_room(500, keep={needed})
    assert full.value.reason == "storage full"
    assert (cache.root / needed).is_file()


async def test_a_download_that_cannot_fit_the_budget_is_refused(tmp_path: Path) -> None:
    cache = cache_with(tmp_path, Origin(), budget=len(DATA) - 1)
    with pytest.raises(CacheError, match="storage full"):
        await cache.ensure(FILE, [FILE.url], keep=set())


def test_partial_downloads_nobody_needs_are_dropped(tmp_path: Path) -> None:
    cache = cache_with(tmp_path, Origin())
    (cache.root / f"{'1' * 64}.part").write_bytes(b"half")
    (cache.root / f"{'2' * 64}.part").write_bytes(b"half")
    assert cache.evict_unneeded({"2" * 64}) == [f"{'1' * 64}.part"]
    stats = cache.stats()
    assert stats["bytes"] == 4 and stats["files"] == 0


def test_stats_skip_a_file_renamed_while_they_look(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A download finishing (.part renamed) between the listing and the stat
    # must not crash the status report (it did, under a heartbeat).
    cache = cache_with(tmp_path, Origin())
    done = cache.root / f"{'3' * 64}"
    done.write_bytes(b"whole")
    renamed = cache.root / f"{'4' * 64}.part"
    renamed.write_bytes(b"half")
    real_scandir = os.scandir

    def racing(path: str | os.PathLike[str]) -> contextlib.nullcontext[list[os.DirEntry[str]]]:
        with real_scandir(path) as listing:
            entries = list(listing)  # the directory as it was listed ...
        renamed.unlink()  # ... then the download finished
        return contextlib.nullcontext(entries)

    monkeypatch.setattr("lianbo.player.cache.os.scandir", racing)
    stats = cache.stats()
    assert stats["files"] == 1 and stats["bytes"] == 5
