"""The headless backend: records what it would show, and when.

Each call becomes one JSON line in a log file (and an entry in ``events``):
``{"at": <server time>, "event": "show"|"blank"|"alert"|"alert-audio"|"alert-end", ...}``.
An ``alert`` line says what the screen would show (mode, colour, texts,
the exercise mark) and which attention sound it would play (``tone``:
``"attention"``, the verified audio resource's path, or null when the
alert is resumed after a restart). Tests, the fleet
simulator and a screen-less test rig read it to see what a real screen would
have shown. Its screenshots are stand-ins — a small PNG in a colour taken
from the sha256 on screen (black when blank) — and say so (``stub``).
"""

from __future__ import annotations

import json
import struct
import zlib
from collections import deque
from datetime import datetime
from pathlib import Path
from typing import Any

from lianbo.player.playback import EXERCISE_MARK, AlertCue, Cue, Screenshot

EVENTS_KEPT = 10_000
ALERT_RGB = {  # GB/T warning colours, for stand-in screenshots of a takeover
    "red": b"\xe6\x00\x12",
    "orange": b"\xf3\x98\x00",
    "yellow": b"\xff\xf1\x00",
    "blue": b"\x00\x68\xb7",
}


class HeadlessBackend:
    name = "headless"

    def __init__(self, log_path: Path | None = None) -> None:
        self.log_path = log_path
        self.events: deque[dict[str, Any]] = deque(maxlen=EVENTS_KEPT)
        self.current: Cue | None = None
        self.alert: AlertCue | None = None

    async def start(self) -> None:
        if self.log_path is not None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)

    async def show(self, cue: Cue, at: datetime) -> None:
        self.current = cue
        self._record(
            {
                "at": at.isoformat(),
                "event": "show",
                "asset_id": cue.asset_id,
                "kind": cue.kind,
                "sha256": cue.sha256,
                "schedule_id": cue.schedule_id,
                "seek_ms": cue.seek_ms,
                "until": cue.until.isoformat(),
                "fit": cue.fit,
                "path": str(cue.path) if cue.path else None,
                "text": cue.text,
                "url": cue.url,
            }
        )

    async def prepare(self, cue: Cue) -> None:
        """Nothing to load ahead: a log has no gaps."""

    async def blank(self, reason: str, at: datetime) -> None:
        self.current = None
        self._record({"at": at.isoformat(), "event": "blank", "reason": reason})

    async def show_alert(self, alert: AlertCue, at: datetime) -> None:
        self.alert = alert
        tone = None if alert.resumed else str(alert.audio) if alert.audio else "attention"
        self._record(
            {
                "at": at.isoformat(),
                "event": "alert",
                "alert_id": alert.id,
                "revision": alert.revision,
                "mode": alert.mode,
                "level": alert.level,
                "colour": alert.colour,
                "event_name": alert.event,
                "headline": alert.headline,
                "description": alert.description,
                "instruction": alert.instruction,
                "language": alert.language,
                "mark": EXERCISE_MARK if alert.exercise else None,
                "expires": alert.expires.isoformat() if alert.expires else None,
                "resumed": alert.resumed,
                "tone": tone,
            }
        )

    async def alert_audio(self, alert: AlertCue, at: datetime) -> None:
        self.alert = alert
        audio = str(alert.audio) if alert.audio else None
        event = {"at": at.isoformat(), "event": "alert-audio", "alert_id": alert.id, "audio": audio}
        self._record(event)

    async def end_alert(self, alert: AlertCue, at: datetime) -> None:
        self.alert = None
        self._record({"at": at.isoformat(), "event": "alert-end", "alert_id": alert.id})

    async def screenshot(self, at: datetime) -> Screenshot:
        sha = self.current.sha256 if self.current and self.current.sha256 else None
        colour = bytes.fromhex(sha[:6]) if sha else b"\x00\x00\x00"
        if self.alert is not None and self.alert.mode == "takeover":
            colour = ALERT_RGB.get(self.alert.colour, ALERT_RGB["red"])
        return Screenshot(solid_png(16, 9, colour), at, stub=True)

    async def close(self) -> None:
        self.current = None
        self.alert = None

    def _record(self, event: dict[str, Any]) -> None:
        self.events.append(event)
        if self.log_path is not None:
            with self.log_path.open("a", encoding="utf-8") as log:
                log.write(json.dumps(event, ensure_ascii=False) + "\n")


def solid_png(width: int, height: int, rgb: bytes) -> bytes:
    """A PNG of one colour (standard library only)."""
    row = b"\x00" + rgb * width  # filter type 0, then the pixels
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(row * height))
        + _chunk(b"IEND", b"")
    )


def _chunk(kind: bytes, data: bytes) -> bytes:
    checksum = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", checksum)
