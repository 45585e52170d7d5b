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

An emergency alert pre-empts all of it (``AlertSource``): a ``takeover``
alert ends the item on screen (its play log closes) and takes the whole
screen; a ``banner`` alert goes over the programme, which plays on. When
the alert ends, the programme comes back exactly where the timeline says.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from lianbo.player.clock import ServerClock
from lianbo.player.schedule import Slot, slot_at
from lianbo.player.waits import wait_event
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
class AlertCue:
    """An emergency alert to put on screen (see ``player/alerts.py``)."""

    id: str
    revision: int
    mode: str  # "takeover" | "banner"
    level: int  # 1 (I, red) .. 4 (IV, blue)
    colour: str
    event: str
    headline: str
    description: str
    instruction: str
    language: str  # the language the texts are in
    exercise: bool  # show the "演练 EXERCISE" mark
    expires: datetime | None
    resumed: bool = False  # shown before (a restart): no attention tone again
    audio: Path | None = None  # a verified audio resource, played instead of the tone

    @property
    def key(self) -> tuple[object, ...]:
        """What makes a different picture (``resumed`` and ``audio`` do not)."""
        return (self.id, self.revision, self.mode)


EXERCISE_MARK = "演练 EXERCISE"


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

    async def show_alert(self, alert: AlertCue, at: datetime) -> None:
        """Put ``alert`` on screen (over everything, or as a banner) with its tone."""
        ...

    async def alert_audio(self, alert: AlertCue, at: datetime) -> None:
        """The alert's own audio (``alert.audio``) arrived: play it."""
        ...

    async def end_alert(self, alert: AlertCue, at: datetime) -> None:
        """Take ``alert`` off the screen."""
        ...

    async def close(self) -> None: ...


class AlertSource(Protocol):
    """Which alert belongs on screen (``player/alerts.AlertDesk``)."""

    def current(self, now: datetime) -> AlertCue | None: ...

    def next_change(self, now: datetime) -> datetime | None:
        """When ``current`` may change by itself (an alert expires)."""
        ...

    def shown(self, alert: AlertCue, at: datetime) -> None:
        """``alert`` went on screen (ack ``displayed`` the first time)."""
        ...


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
        alerts: AlertSource | None = None,
    ) -> None:
        self.backend = backend
        self.media = media
        self.clock = clock
        self.record = record
        self.alerts = alerts
        self.alert: AlertCue | None = None  # on screen now
        self._alert_since: datetime | None = None
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
            await self._sleep_until(self._deadline(slot))

    async def step(self) -> Slot:
        """Put on screen what belongs there now; the slot says until when."""
        self.changed.clear()
        now = self.clock.now()
        slot = slot_at(self.manifest, now)
        alert = self.alerts.current(now) if self.alerts is not None else None
        ending = self.alert is not None and (alert is None or alert.key != self.alert.key)
        if ending and self.alert is not None:
            await self.backend.end_alert(self.alert, now)
            self.alert = None
        if alert is not None and alert.mode == "takeover":
            self._taken_over(alert, now)
        else:
            await self._apply(slot, now)
        if alert is not None:
            await self._show_alert(alert, now)
        return slot

    def _taken_over(self, alert: AlertCue, now: datetime) -> None:
        """The alert has the whole screen: the item on it has ended."""
        key = ("alert", *alert.key)
        if key != self._key:
            self._end(now)
            self._key, self._blank_reason = key, None

    async def _show_alert(self, alert: AlertCue, now: datetime) -> None:
        if self.alert is None:
            self.alert, self._alert_since = alert, now
            await self.backend.show_alert(alert, now)
            assert self.alerts is not None
            self.alerts.shown(alert, now)
        elif alert.audio is not None and alert.audio != self.alert.audio:
            self.alert = alert
            await self.backend.alert_audio(alert, now)

    def _deadline(self, slot: Slot) -> datetime | None:
        """The slot's end, or sooner when an alert may end by itself."""
        if self.alerts is None:
            return slot.until
        change = self.alerts.next_change(self.clock.now())
        if change is None or (slot.until is not None and slot.until <= change):
            return slot.until
        return change

    async def finish(self) -> None:
        """Log what is on screen as ended now (the player is stopping)."""
        self._end(self.clock.now())

    def showing(self) -> dict[str, Any] | None:
        if self.alert is not None and self.alert.mode == "takeover":
            began = self._alert_since.isoformat() if self._alert_since else None
            return {"alert": self.alert.id, "since": began}
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
        await wait_event(self.changed, delay)
