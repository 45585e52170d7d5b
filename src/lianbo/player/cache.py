"""The media cache: files by sha256, downloaded ahead of air time.

- A download goes to ``<sha256>.part`` and resumes from its length with
  ``Range`` after a dropped connection (UHD files are large; starting over
  on a flaky link may never finish).
- A file is used only once its bytes hash to the sha256 the signed manifest
  names: a mismatch (hijacked CDN, corrupt disk, truncated proxy) deletes the
  bytes and records the reason. Sources are tried in order, so a bad CDN copy
  falls back to the control centre's own ``/media/``.
- The check is repeated for a file already on disk: the first time it is
  wanted after the player starts, and whenever its size, mtime, ctime or
  inode differ from when it last hashed right (someone changed the file).
  Until then ``path_of`` does not give it out, so it is never played; the
  downloader hashes it again and fetches it anew when it no longer matches.
- A size budget: when a download needs room, files no manifest needs go
  first, least recently used (file mtime, touched on every play) first.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import stat
from collections.abc import Callable
from pathlib import Path

import httpx

from lianbo.protocol.manifest import FileRef

log = logging.getLogger("lianbo.player")

CHUNK = 1024 * 1024
TIMEOUT = httpx.Timeout(60.0, connect=5.0)
PART = ".part"
FAILURES_REPORTED = 8

Fingerprint = tuple[int, int, int, int]
"""(size, mtime_ns, ctime_ns, inode): what changes when someone writes a file."""


class CacheError(Exception):
    """A file could not be cached; ``reason`` is short and stable."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class MediaCache:
    """Verified files under one directory, within a byte budget."""

    def __init__(self, root: Path, budget_bytes: int, client: httpx.AsyncClient) -> None:
        if budget_bytes <= 0:
            raise ValueError("the cache budget must be positive")
        self.root = root
        self.budget = budget_bytes
        self.client = client
        self.failures: dict[str, str] = {}  # sha256 → why it is not cached
        # sha256 → the file's stat when its bytes last hashed right (this run)
        self.verified: dict[str, Fingerprint] = {}
        self.on_stale: Callable[[], None] | None = None  # a verified file changed
        root.mkdir(parents=True, exist_ok=True)

    def path_of(self, sha256: str) -> Path | None:
        """The file, when verified since start and unchanged since; else None
        (``ensure`` hashes it again, or fetches it)."""
        path = self.root / sha256
        now = _fingerprint(path)
        known = self.verified.get(sha256)
        if now is not None and now == known:
            return path
        if known is not None:  # changed (or gone) under us: never play it unchecked
            del self.verified[sha256]
            log.warning("cached %s changed on disk; checking it again", sha256[:12])
            if self.on_stale is not None:
                self.on_stale()
        return None

    def touch(self, sha256: str) -> None:
        """Mark a file used now (least recently used goes first)."""
        path = self.root / sha256
        before = _fingerprint(path)
        if before is None:
            return
        os.utime(path)
        if before == self.verified.get(sha256):  # our own change, not someone else's
            self._verified_now(sha256)

    def used_bytes(self) -> int:
        return sum(size for _, size, _ in self._entries())

    def stats(self) -> dict[str, object]:
        """For status reports (kept small: the hub keeps 2 KiB of a status)."""
        entries = self._entries()
        failures = list(self.failures.items())
        return {
            "bytes": sum(size for _, size, _ in entries),
            "budget": self.budget,
            "files": sum(1 for name, _, _ in entries if not name.endswith(PART)),
            "failed": len(failures),
            "failures": dict(failures[:FAILURES_REPORTED]),
        }

    async def ensure(self, file: FileRef, sources: list[str], keep: set[str]) -> Path:
        """The verified file for ``file``, downloading it if needed.

        ``keep`` names the files current manifests need (never evicted).
        Raises CacheError when no source gives the right bytes.
        """
        done = self.path_of(file.sha256)
        if done is not None and done.stat().st_size == file.size:
            return done
        if await self._still_good(file):
            return self.root / file.sha256
        part = self.root / f"{file.sha256}{PART}"
        have = part.stat().st_size if part.exists() else 0
        self.make_room(file.size - have, keep | {file.sha256})
        error = CacheError("no source", "the manifest gives no URL")
        for url in dict.fromkeys(u for u in sources if u):
            try:
                await self._download(url, file, part)
                await self._verify(file, part)
            except CacheError as failed:
                error = failed
                log.debug("%s from %s: %s", file.sha256[:12], url, failed)
                continue
            os.replace(part, self.root / file.sha256)
            self._verified_now(file.sha256)
            self.failures.pop(file.sha256, None)
            log.info("cached %s (%d bytes)", file.sha256[:12], file.size)
            return self.root / file.sha256
        if self.failures.get(file.sha256) != error.reason:  # once, not on every retry
            log.warning("cannot cache %s: %s", file.sha256[:12], error)
        self.failures[file.sha256] = error.reason
        raise error

    def make_room(self, need: int, keep: set[str]) -> list[str]:
        """Evict unneeded files, least recently used first, until ``need`` more
        bytes fit the budget; CacheError("storage full") when they cannot."""
        entries = self._entries()
        used = sum(size for _, size, _ in entries)
        evicted = []
        for name, size, _ in sorted(entries, key=lambda e: e[2]):
            if used + need <= self.budget:
                break
            if name.removesuffix(PART) in keep:
                continue
            (self.root / name).unlink(missing_ok=True)
            used -= size
            evicted.append(name)
        if evicted:
            log.info("evicted %d files from the cache", len(evicted))
        if used + need > self.budget:
            raise CacheError("storage full", f"need {need} bytes, budget {self.budget}")
        return evicted

    def evict_unneeded(self, keep: set[str]) -> list[str]:
        """Drop partial downloads (and failure notes) nobody needs any more;
        complete files stay until the budget needs their room: a schedule
        may come back."""
        self.failures = {sha: why for sha, why in self.failures.items() if sha in keep}
        dropped = []
        for name, _, _ in self._entries():
            if name.endswith(PART) and name.removesuffix(PART) not in keep:
                (self.root / name).unlink(missing_ok=True)
                dropped.append(name)
        return dropped

    def _entries(self) -> list[tuple[str, int, float]]:
        """(name, size, mtime) of every cached or partial file."""
        found = []
        with os.scandir(self.root) as listing:
            for entry in listing:
                if entry.is_file() and len(entry.name.removesuffix(PART)) == 64:
                    try:
                        stat = entry.stat()
                    except FileNotFoundError:  # a download finished (renamed) meanwhile
                        continue
                    found.append((entry.name, stat.st_size, stat.st_mtime))
        return found

    async def _download(self, url: str, file: FileRef, part: Path) -> None:
        have = _prepare(part, file.size)
        if have == file.size:
            return  # complete already: only the hash is left to check
        headers = {"Accept-Encoding": "identity"}  # Range counts the bytes as stored
        if have:
            headers["Range"] = f"bytes={have}-"
        try:
            async with self.client.stream("GET", url, headers=headers, timeout=TIMEOUT) as reply:
                if reply.status_code == 206 and _resumes_at(reply, have):
                    mode = "ab"
                elif reply.status_code == 200:
                    mode, have = "wb", 0  # the source ignored Range: start over
                elif reply.status_code == 206:
                    _discard(part)  # a range we did not ask for
                    raise CacheError("download failed", "unexpected Content-Range")
                else:
                    raise CacheError("download failed", f"HTTP {reply.status_code}")
                await _write(reply, part, mode, file.size - have)
        except httpx.TransportError as error:
            # What arrived stays in the .part file; the next attempt resumes.
            raise CacheError("download failed", f"{type(error).__name__}: {error}") from None

    async def _still_good(self, file: FileRef) -> bool:
        """Whether the file already cached (not verified this run, or changed
        since) hashes right; a file that does not is deleted."""
        path = self.root / file.sha256
        before = _fingerprint(path)
        if before is None:
            return False
        if before[0] == file.size:
            actual = await asyncio.to_thread(_sha256_of, path)
            if actual == file.sha256 and _fingerprint(path) == before:
                self.verified[file.sha256] = before
                return True
        log.warning("cached %s does not match its sha256; fetching it again", file.sha256[:12])
        path.unlink(missing_ok=True)
        return False

    def _verified_now(self, sha256: str) -> None:
        found = _fingerprint(self.root / sha256)
        if found is not None:
            self.verified[sha256] = found

    async def _verify(self, file: FileRef, part: Path) -> None:
        actual = await asyncio.to_thread(_sha256_of, part)
        if actual != file.sha256:
            _discard(part)
            raise CacheError("sha256 mismatch", f"got {actual}")


async def _write(reply: httpx.Response, part: Path, mode: str, expected: int) -> None:
    """Stream the body into the part file; at most ``expected`` bytes."""
    written = 0
    with open(part, mode) as out:  # noqa: ASYNC230  # small buffered writes, one per chunk
        async for chunk in reply.aiter_bytes():  # as they arrive: a drop keeps them
            written += len(chunk)
            if written > expected:
                break
            out.write(chunk)
    if written > expected:
        _discard(part)
        raise CacheError("size mismatch", "more bytes than the manifest says")
    if written < expected:
        raise CacheError("download failed", f"short by {expected - written} bytes")


def _prepare(part: Path, size: int) -> int:
    """How much of the file the part already holds (a too-long part is dropped)."""
    have = part.stat().st_size if part.exists() else 0
    if have > size:
        part.unlink()
        have = 0
    if have == size:
        part.touch()
    return have


def _discard(part: Path) -> None:
    part.unlink(missing_ok=True)


def _resumes_at(reply: httpx.Response, offset: int) -> bool:
    """Whether a 206 answer continues exactly where our part file ends."""
    content_range = str(reply.headers.get("content-range", ""))
    return content_range.startswith(f"bytes {offset}-")


def _fingerprint(path: Path) -> Fingerprint | None:
    try:
        found = path.stat()
    except (FileNotFoundError, NotADirectoryError):
        return None
    if not stat.S_ISREG(found.st_mode):
        return None
    return (found.st_size, found.st_mtime_ns, found.st_ctime_ns, found.st_ino)


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
