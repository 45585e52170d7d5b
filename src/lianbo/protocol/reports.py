"""What terminals report back: play logs (proof of play) and status.

``POST /terminal/v1/playlog`` takes ``{"entries": [PlayLogEntry.as_json(), ...]}``;
``POST /terminal/v1/heartbeat`` and the push channel's ``status`` message carry
a free-form status object whose well-known keys are listed in ``STATUS_KEYS``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

PLAYLOG_BATCH_MAX = 500
"""At most this many entries in one ``POST /terminal/v1/playlog``."""

STATUS_KEYS = (
    "manifest_version",  # the version being played, or null
    "manifest_valid_until",
    "rejected",  # the last refused manifest: {reason, detail, at} or null
    "showing",  # {asset_id, sha256, schedule_id, since}, {alert, since} (a takeover) or null
    "cache",  # {bytes, budget, files, failures: {sha256: reason}}
    "clock_offset_ms",  # server clock minus the terminal's, estimated
    "push",  # "connected" | "polling"
    "backend",  # "headless" | "mpv"
    "alerts",  # [{id, state}]: emergency alerts on this screen, newest first
    "untrusted_key",  # {key_id, reason, at}: a signature by a key not pinned, or null
    "key_serial",  # the serial of the key set this screen has pinned
)


@dataclass(frozen=True, slots=True)
class PlayLogEntry:
    """One item shown on a screen from ``started_at`` to ``ended_at`` (server time)."""

    sha256: str
    schedule_id: str | None
    started_at: datetime
    ended_at: datetime

    def as_json(self) -> dict[str, Any]:
        return {
            "sha256": self.sha256,
            "schedule_id": self.schedule_id,
            "started_at": self.started_at.isoformat(),
            "ended_at": self.ended_at.isoformat(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PlayLogEntry:
        return cls(
            sha256=str(data["sha256"]),
            schedule_id=data.get("schedule_id"),
            started_at=datetime.fromisoformat(data["started_at"]),
            ended_at=datetime.fromisoformat(data["ended_at"]),
        )


def playlog_body(entries: list[PlayLogEntry]) -> dict[str, Any]:
    return {"entries": [entry.as_json() for entry in entries]}
