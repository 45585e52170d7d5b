"""The timeline player: turns slots into backend calls, on deadlines.

``Player.run`` computes what the manifest says to show now (``slot_at``),
tells the backend when that differs from what is on screen, then sleeps
until the slot's deadline or until something changes (a new manifest, a
file that finished downloading). Each item that leaves the screen becomes a
play-log entry (proof of play) with the times it really was on screen.

An item whose file is not cached (still downloading, or refused for a bad
sha256) is not shown: the screen goes blank for that item rather than show
bytes nobody signed for, and joins the playlist where it stands once the
file is there.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from lianbo.player.clock import ServerClock
from lianbo.player.schedule import Slot, slot_at
from lianbo.protocol.manifest import VerifiedManifest
from lianbo.protocol.reports import PlayLogEntry

MAX_SLEEP = 10.0  # seconds; re-check now and then in case the clock estimate moved
FILE_KINDS = ("video", "image", "audio")


class BackendUnavailable(Exception):
    """A backend cannot run here (say, mpv is not installed)."""


@dataclass(frozen=True, slots=True)
class Cue:
    """One thing to put on screen, from ``seek_ms`` into it, until ``until``."""

    asset_id: str
    kind: str
    fit: str
    seek_ms: int
    until: datetime
    schedule_id: str | None
    sha256: str | None = None
    path: Path | None = None  # a verified local file (video, image, audio)
    text: str | None = None  # ticker
    url: str | None = None  # live stream


@dataclass(frozen=True, slots=True)
class Screenshot:
    png: bytes
    taken_at: datetime
    stub: bool  # True when it is a stand-in, not pixels read from a screen


class Backend(Protocol):
    """Something that puts cues on a screen (or pretends to)."""

    name: str

    async def start(self) -> None: ...

    async def show(self, cue: Cue, at: datetime) -> None: ...

    async def prepare(self, cue: Cue) -> None:
        """A hint: ``cue`` comes next (gapless backends load it ahead)."""
        ...

    async def blank(self, reason: str, at: datetime) -> None: ...

    async def screenshot(self, at: datetime) -> Screenshot: ...

    async def close(self) -> None: ...


class MediaLookup(Protocol):
    def path_of(self, sha256: str) -> Path | None: ...

    def touch(self, sha256: str) -> None: ...


class Player:
    """Plays the current manifest on a backend."""

    def __init__(
        self,
        backend: Backend,
        media: MediaLookup,
        clock: ServerClock,
        record: Callable[[PlayLogEntry], None],
    ) -> None:
        self.backend = backend
        self.media = media
        self.clock = clock
        self.record = record
        self.manifest: VerifiedManifest | None = None
        self.changed = asyncio.Event()
        self._key: tuple[object, ...] | None = None
        self._on_screen: Cue | None = None
        self._since: datetime | None = None
        self._blank_reason: str | None = None

    def update(self, manifest: VerifiedManifest | None) -> None:
        """A new manifest: re-evaluate at once."""
        self.manifest = manifest
        self.changed.set()

    def poke(self) -> None:
        """Something else changed (a file arrived): re-evaluate at once."""
        self.changed.set()

    async def run(self) -> None:
        while True:
            slot = await self.step()
            await self._sleep_until(slot.until)

    async def step(self) -> Slot:
        """Put on screen what belongs there now; the slot says until when."""
        self.changed.clear()
        now = self.clock.now()
        slot = slot_at(self.manifest, now)
        await self._apply(slot, now)
        return slot

    async def finish(self) -> None:
        """Log what is on screen as ended now (the player is stopping)."""
        self._end(self.clock.now())

    def showing(self) -> dict[str, Any] | None:
        cue, since = self._on_screen, self._since
        if cue is None or since is None:
            return {"blank": self._blank_reason} if self._blank_reason else None
        return {
            "asset_id": cue.asset_id,
            "sha256": cue.sha256,
            "schedule_id": cue.schedule_id,
            "since": since.isoformat(),
        }

    async def _apply(self, slot: Slot, now: datetime) -> None:
        cue = self._cue(slot) if slot.playing else None
        if slot.playing and cue is None:
            key: tuple[object, ...] = ("not cached", slot.key)
            reason = "not cached"
        else:
            key, reason = (slot.key or (slot.reason,)), slot.reason
        if key == self._key:
            return
        self._end(now)
        self._key = key
        if cue is None:
            self._blank_reason = reason
            await self.backend.blank(reason, now)
            return
        self._on_screen, self._since, self._blank_reason = cue, now, None
        if cue.sha256:
            self.media.touch(cue.sha256)
        await self.backend.show(cue, now)
        upcoming = self._cue(slot_at(self.manifest, cue.until)) if cue.until else None
        if upcoming is not None:
            await self.backend.prepare(upcoming)

    def _cue(self, slot: Slot) -> Cue | None:
        """The cue for a playing slot, or None when its file is not cached."""
        item, entry = slot.item, slot.entry
        if item is None or entry is None or slot.until is None:
            return None
        path = None
        if item.kind in FILE_KINDS:
            path = self.media.path_of(slot.file.sha256) if slot.file else None
            if path is None:
                return None
        return Cue(
            asset_id=item.asset_id,
            kind=item.kind,
            fit=item.fit,
            seek_ms=slot.offset_ms,
            until=slot.until,
            schedule_id=entry.schedule_id,
            sha256=slot.file.sha256 if slot.file else None,
            path=path,
            text=item.text,
            url=item.url,
        )

    def _end(self, now: datetime) -> None:
        cue, since = self._on_screen, self._since
        self._on_screen, self._since = None, None
        if cue is not None and since is not None and cue.sha256 and now > since:
            self.record(PlayLogEntry(cue.sha256, cue.schedule_id, since, now))

    async def _sleep_until(self, until: datetime | None) -> None:
        delay = MAX_SLEEP
        if until is not None:
            delay = min(MAX_SLEEP, max(0.0, (until - self.clock.now()).total_seconds()))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.changed.wait(), timeout=delay)
