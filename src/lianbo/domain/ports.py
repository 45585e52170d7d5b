"""Interfaces the core needs from the outside world."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from lianbo.domain.audit_anchors import Anchor, AnchorLine
    from lianbo.protocol.messages import Message


class Clock(Protocol):
    """Source of the current time (always timezone-aware UTC)."""

    def now(self) -> datetime: ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FleetChannel(Protocol):
    """The push channel to terminals: the built-in WebSocket hub or an MQTT
    broker (``LIANBO_FLEET``); callers cannot tell which one is in use.

    Delivery is best effort, at most once: a screen that misses a push
    catches up when it reconnects (a player fetches its manifest then).
    Nothing here raises for a transport failure; failures are logged.
    """

    async def start(self) -> None:
        """Begin background work (presence reports, broker connection)."""
        ...

    async def stop(self) -> None: ...

    def online(self) -> set[str]:
        """Ids of the terminals connected right now."""
        ...

    async def send(self, terminal_ids: Iterable[str], message: Message) -> int:
        """Push ``message`` to these terminals; how many it was handed to."""
        ...

    async def publish_region(self, region_code: str, message: Message) -> None:
        """One publish reaching every terminal whose region lies in the subtree
        of ``region_code`` (short or full GB/T 2260 form)."""
        ...

    async def manifest_changed(self, versions: Mapping[str, str], base: str | None = None) -> int:
        """Tell the connected terminals of each audience (key → new manifest
        version) to fetch it — from ``base`` + its ``/manifests/…`` path
        when ``base`` is given (ADR 0024); how many terminals were told."""
        ...

    async def drop(self, terminal_id: str, *, revoked: bool) -> bool:
        """End the terminal's live connection now: its token was revoked
        (retired, re-enrolled) or its facts changed (it reconnects and is
        filed afresh). Whether there was one this channel could end."""
        ...


class AnchorLog(Protocol):
    """The audit anchor log outside the database (``domain/audit_anchors.py``):
    append-only, shared by every server process that uses the data dir."""

    async def read(self) -> list[AnchorLine]:
        """Every line, oldest first (an absent log has none)."""
        ...

    async def append_next(self, make: Callable[[Anchor | None], Anchor | None]) -> Anchor | None:
        """Under a lock that other processes respect: ``make`` is given the
        newest readable anchor (or None) and returns the anchor to append (or
        None). The line is appended in one write and made durable before this
        returns; the anchor appended, if any."""
        ...


class AnchorSink(Protocol):
    """A copy of each anchor sent elsewhere (a webhook, syslog): best effort,
    since the anchor log already holds it."""

    async def run(self) -> None:
        """Deliver in the background until cancelled (returns at once when
        there is nothing to do in the background)."""
        ...

    def send(self, anchor: Anchor) -> None:
        """Hand one anchor over; never blocks on the network, never raises."""
        ...


class Leadership(Protocol):
    """Whether this process is the one that runs the singleton duties
    (offline sweeper, alert expiry, retention, manifest refresh, audit
    anchoring): on PostgreSQL the holder of an advisory lock, on SQLite the
    one process there is (ADR 0011)."""

    @property
    def is_leader(self) -> bool:
        """True while this process leads (``lianbo_leader`` in /metrics)."""
        ...

    async def campaign(self) -> None:
        """Seek and hold leadership until cancelled; never raises for a lost
        database (it retries), and lets go of leadership when cancelled."""
        ...

    async def until(self, leading: bool) -> None:
        """Return once ``is_leader == leading`` (at once if it already is)."""
        ...


# Runs one asset's job (QC: analysis, screening, hash track, renditions).
AssetJob = Callable[[str], Awaitable[None]]


class JobQueue(Protocol):
    """Background jobs on assets (ADR 0012): in-process on the embedded
    SQLite default, a durable PostgreSQL queue with several processes.

    At most one job runs per asset at a time; asking again for an asset
    whose job is still waiting adds nothing.
    """

    durable: bool  # jobs outlive the process (a restart need not re-queue)

    async def enqueue_qc(self, asset_id: str) -> None:
        """Ask for QC of ``asset_id`` (after its row is committed)."""
        ...

    async def work(self, job: AssetJob) -> None:
        """Run queued jobs with ``job`` until cancelled (a worker)."""
        ...

    async def backlog(self) -> int:
        """Jobs waiting to start (for the job-queue-backlog metric)."""
        ...

    async def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class StoredBlob:
    """A blob just written: its address, size and a local file with its bytes."""

    sha256: str
    size: int
    path: Path  # a local file holding the bytes (S3: the copy in the cache)
    existed: bool  # the same bytes were already stored


class BlobWriting(Protocol):
    """An upload in progress: hashes as it writes, refuses past its limit."""

    def write(self, data: bytes | bytearray | memoryview) -> None: ...
    def finish(self) -> StoredBlob: ...
    def abort(self) -> None: ...


class EdgeCaches(Protocol):
    """The caching edges in front of lianbo's media (deploy/nginx/)."""

    async def purge(self, blobs: list[tuple[str, int]]) -> None:
        """Remove these blobs (sha256, size) from every edge now; an edge out
        of reach is logged, and revalidates them with the origin later."""
        ...


class BlobStore(Protocol):
    """Content-addressed media (files named by their sha256): a local
    directory (the default) or S3-compatible object storage (ADR 0019).

    Methods block (disk or network): async callers hop to a thread
    (``asyncio.to_thread``) for anything but ``cached``/``temp_path``.
    """

    def exists(self, sha256: str) -> bool: ...
    def size(self, sha256: str) -> int | None:
        """The blob's size in bytes; None when it is not stored."""
        ...

    def path(self, sha256: str) -> Path:
        """A local file with the blob's bytes (S3: fetched into the cache and
        its hash checked first). Local store: the path even when absent."""
        ...

    def cached(self, sha256: str) -> Path | None:
        """A local file with the blob's bytes if there is one now, without fetching."""
        ...

    def read(self, sha256: str, start: int, stop: int) -> Iterator[bytes]:
        """Bytes ``start`` up to ``stop`` (exclusive), in chunks, never whole."""
        ...

    def temp_path(self) -> Path:
        """A fresh local file name on the same filesystem as ``adopt`` moves to."""
        ...

    def writer(self, limit: int) -> BlobWriting: ...
    def adopt(self, temp: Path, sha256: str | None = None, size: int | None = None) -> StoredBlob:
        """Store a finished local file (hashing it if not yet hashed); consumes ``temp``."""
        ...

    def delete(self, sha256: str) -> None: ...
    def derived_dir(self, sha256: str) -> Path:
        """A local folder for files made from a blob (expected frames); may be
        wiped at any time, so only what can be made again goes there."""
        ...

    def check(self) -> bool:
        """Whether the store answers, as last seen (for ``/healthz``; never blocks)."""
        ...
