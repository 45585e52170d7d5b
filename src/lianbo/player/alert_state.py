"""The decisions about alerts on one screen, as a state machine without I/O.

Each alert id has one ``AlertRecord``; ``AlertStates`` moves it along
(``active`` → ``displayed``, ended as ``cancelled`` / ``replaced`` /
``expired`` / ``withdrawn``, or settled at once as ``failed``, ``hidden``
or ``outside-area``) and says which alert belongs on screen. It reads no
clock and touches no disk or network: times come in as arguments, and the
acks a decision calls for go back as ack states. The desk
(``player/alerts.py``) verifies notices, sends those acks and keeps the
records on disk (``player/alert_store.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from lianbo.player.alert_view import (
    TerminalFacts,
    cue_for,
    inside_area,
    level_of,
    revision_of,
    sent_of,
)
from lianbo.player.playback import AlertCue
from lianbo.protocol.alerts import Notice

SHOWABLE = ("active", "displayed")
ENDED = ("cancelled", "replaced", "expired", "withdrawn")
STATUS_MAX = 8


@dataclass(slots=True)
class AlertRecord:
    """What this screen decided about one alert id.

    ``state``: failed | hidden (Test/System) | outside-area | active (to
    show) | displayed | cancelled | replaced | expired | withdrawn (no
    longer listed by the server)."""

    id: str
    state: str
    level: int = 1
    sent: str = ""
    revision: int = 0
    expires: str | None = None
    body: dict[str, Any] | None = None  # the push body while it may be shown
    digest: str | None = None  # of a refused copy: the same refusal is acked once
    reason: str | None = None
    notice: Notice | None = field(default=None, compare=False)
    arrived: float = 0.0  # monotonic; 0 for records loaded from disk
    audio: Path | None = None  # a verified audio resource

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "state": self.state,
            "level": self.level,
            "sent": self.sent,
            "revision": self.revision,
            "expires": self.expires,
            "body": self.body,
            "digest": self.digest,
            "reason": self.reason,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AlertRecord:
        return cls(
            id=str(data["id"]),
            state=str(data["state"]),
            level=int(data.get("level", 1)),
            sent=str(data.get("sent", "")),
            revision=int(data.get("revision", 0)),
            expires=data.get("expires"),
            body=data.get("body") if isinstance(data.get("body"), dict) else None,
            digest=data.get("digest"),
            reason=data.get("reason"),
        )

    def expired(self, now: datetime) -> bool:
        expires = parse_time(self.expires)
        return expires is not None and expires <= now


class AlertStates:
    """Every alert id this screen has decided about, and the moves between states."""

    def __init__(self, records: dict[str, AlertRecord] | None = None) -> None:
        self.records: dict[str, AlertRecord] = {} if records is None else records

    # -- notices in ----------------------------------------------------------

    def refused(
        self, claimed: str, digest: str, reason: str, record: AlertRecord | None, arrived: float
    ) -> bool:
        """A copy of ``claimed`` failed its check; True when it is to be acked ``failed``."""
        if record is not None and record.state != "failed":
            return False  # a forged copy of an alert we already hold honestly
        self.records[claimed] = AlertRecord(
            claimed, "failed", digest=digest, reason=reason, arrived=arrived
        )
        return True

    def accept(
        self,
        notice: Notice,
        push: dict[str, Any],
        known: AlertRecord | None,
        facts: TerminalFacts,
        now: datetime,
        arrived: float,
    ) -> list[str]:
        """Take a verified alert notice; the ack states it calls for, in order."""
        if known is not None and known.state in SHOWABLE:
            if known.notice is None or revision_of(notice) > known.revision:
                known.notice, known.body = notice, dict(push)  # a newer revision: in place
                known.revision, known.level = revision_of(notice), level_of(notice)
            return []
        record = AlertRecord(
            notice.id,
            "active",
            level=level_of(notice),
            sent=sent_of(notice),
            revision=revision_of(notice),
            expires=_iso(notice),
            arrived=arrived,
        )
        self.records[notice.id] = record
        acks = ["verified"]
        self._replace(notice)
        if record.expired(now):
            record.state = "expired"
        elif not notice.shown_to_public:
            record.state = "hidden"
        elif not inside_area(notice, facts):
            record.state = "outside-area"
            acks.append("outside-area")
        else:
            record.notice, record.body = notice, dict(push)
        return acks

    def _replace(self, notice: Notice) -> None:
        """An Update ends the alerts it lists (and keeps them from coming later)."""
        replaces = notice.body.get("replaces")
        for old_id in replaces if isinstance(replaces, list) else []:
            if not isinstance(old_id, str) or old_id == notice.id:
                continue
            old = self.records.get(old_id)
            if old is None:
                self.records[old_id] = AlertRecord(old_id, "replaced", expires=_iso(notice))
            elif old.state not in ENDED:
                end(old, "replaced")

    def cancel(self, notice: Notice, arrived: float) -> bool:
        """A verified cancel; True when it is to be acked ``cancelled``."""
        record = self.records.get(notice.id)
        if record is None:
            # Cancelled before it reached us: it must never show if it comes.
            self.records[notice.id] = AlertRecord(notice.id, "cancelled", arrived=arrived)
            return False
        if record.state in ENDED:
            return False
        had_it = record.state != "failed"
        end(record, "cancelled")
        return had_it

    def unlisted(self, listed: set[str | None], asked_at: float) -> list[AlertRecord]:
        """Alerts in force that the server's list (asked at monotonic
        ``asked_at``) no longer carries, though they arrived before it."""
        return [
            r
            for r in self.records.values()
            if r.state in SHOWABLE and r.id not in listed and r.arrived < asked_at
        ]

    # -- the screen asks -----------------------------------------------------

    def expire(self, now: datetime) -> bool:
        """End the alerts in force whose time is up; True if any did."""
        ended = False
        for record in self.records.values():
            if record.state in SHOWABLE and record.notice is not None and record.expired(now):
                end(record, "expired")
                ended = True
        return ended

    def on_screen(self, facts: TerminalFacts) -> AlertCue | None:
        """Of the alerts in force (``expire`` them first), the one to show:
        the most severe (lowest level number), newest first."""
        candidates = [
            r for r in self.records.values() if r.state in SHOWABLE and r.notice is not None
        ]
        if not candidates:
            return None
        candidates.sort(key=lambda r: r.sent, reverse=True)  # newest first ...
        chosen = min(candidates, key=lambda r: r.level)  # ... of the most severe
        assert chosen.notice is not None
        cue = cue_for(chosen.notice, facts, resumed=chosen.state == "displayed")
        return cue if chosen.audio is None else replace(cue, audio=chosen.audio)

    def next_change(self) -> datetime | None:
        """When the first alert in force expires."""
        records = self.records.values()
        ends = [parse_time(r.expires) for r in records if r.state in SHOWABLE and r.notice]
        return min((e for e in ends if e is not None), default=None)

    def shown(self, alert_id: str) -> bool:
        """The screen put it up; True the first time (to be acked ``displayed``)."""
        record = self.records.get(alert_id)
        if record is not None and record.state == "active":
            record.state = "displayed"
            return True
        return False

    def audio_wanted(self) -> list[tuple[str, dict[str, Any]]]:
        """(alert id, resource) for alerts in force whose audio is not here yet."""
        wanted = []
        for record in self.records.values():
            if record.state in SHOWABLE and record.notice is not None and record.audio is None:
                resource = audio_resource(record.notice)
                if resource is not None:
                    wanted.append((record.id, resource))
        return wanted

    def audio_ready(self, alert_id: str, path: Path) -> bool:
        """The verified audio of an alert; True if the alert is still in force."""
        record = self.records.get(alert_id)
        if record is not None and record.state in SHOWABLE:
            record.audio = path
            return True
        return False

    def status(self) -> list[dict[str, str]]:
        """``[{id, state}]``, newest first, for the status report."""
        records = sorted(self.records.values(), key=lambda r: (r.arrived, r.sent), reverse=True)
        return [{"id": r.id, "state": r.state} for r in records[:STATUS_MAX]]


def end(record: AlertRecord, state: str) -> None:
    """End an alert: it is no longer shown, and what showed it is let go."""
    record.state, record.notice, record.body, record.audio = state, None, None, None


def audio_resource(notice: Notice) -> dict[str, Any] | None:
    """The first audio resource with a sha256 and a size, if any."""
    for resource in notice.body.get("resources") or []:
        if not isinstance(resource, dict):
            continue
        mime, sha, size = resource.get("mime_type"), resource.get("sha256"), resource.get("size")
        if (
            isinstance(mime, str)
            and mime.startswith("audio/")
            and isinstance(sha, str)
            and len(sha) == 64
            and isinstance(size, int)
            and size > 0
        ):
            return resource
    return None


def parse_time(value: str | None) -> datetime | None:
    """An ISO time with a zone, or None (absent, unreadable or naive)."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _iso(notice: Notice) -> str | None:
    value = notice.body.get("expires")
    return value if isinstance(value, str) and parse_time(value) is not None else None
