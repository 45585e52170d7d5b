"""Emergency alerts on one screen: the decisions, and what they are acked as.

Notices come from the push channel (``alert`` / ``alert-cancel``) and from
``GET /terminal/v1/alerts`` (at start-up, on every push (re)connect, and
with each poll), often both for the same alert; ``AlertDesk.receive`` takes
them in any order, any number of times, and decides once per alert id:

1. ``received`` is acked on arrival; the signature is checked with the
   keys from enrolment (``protocol.alerts.verify_notice``; an unknown key
   asks the server for its keys once). A refusal is acked ``failed`` with
   the reason, once per distinct forgery, and nothing is shown; an honest
   copy of the same id may still arrive and is taken.
2. ``verified``; then ``Test``/``System`` notices stop there (never shown),
   a screen outside the polygons/circles acks ``outside-area``, an alert
   already cancelled or replaced, or expired, is not shown; the rest wait
   for the screen, which acks ``displayed`` when it shows them.
3. An Update ends the alerts it ``replaces``; a cancel ends its alert
   (``cancelled``); ``expires`` ends it by itself.

What was decided is kept in ``alerts.json`` in the state dir, so an alert
is never taken as new twice — not after a restart either. An alert still
in force when the player restarts comes back on screen (marked
``resumed``: no second ``displayed`` ack, no second attention tone).

Of several alerts in force the screen shows the most severe (lowest level
number), newest first.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from lianbo.player.alert_acks import Ack
from lianbo.player.alert_view import (
    TerminalFacts,
    cue_for,
    inside_area,
    level_of,
    revision_of,
    sent_of,
)
from lianbo.player.files import write_atomic
from lianbo.player.playback import AlertCue
from lianbo.protocol.alerts import Notice, NoticeRejected, verify_notice

log = logging.getLogger("lianbo.player")

STORE_FILE = "alerts.json"
SHOWABLE = ("active", "displayed")
ENDED = ("cancelled", "replaced", "expired", "withdrawn")
KEEP_ENDED = timedelta(days=3)  # remembered this long past expiry, for dedup
KEEP_MAX = 500
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
        expires = _time(self.expires)
        return expires is not None and expires <= now


class AlertDesk:
    """Decides what becomes of each alert notice; the player asks it what to show."""

    def __init__(
        self,
        state_dir: Path,
        keys: Callable[[], dict[str, str]],
        now: Callable[[], datetime],
        ack: Callable[[Ack], None],
        *,
        refresh_keys: Callable[[], Awaitable[dict[str, str]]] | None = None,
        on_change: Callable[[], None] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        state_dir.mkdir(parents=True, exist_ok=True)
        self.path = state_dir / STORE_FILE
        self.keys = keys
        self.now = now
        self.ack = ack
        self.refresh_keys = refresh_keys
        self.on_change = on_change
        self.monotonic = monotonic
        self.facts = TerminalFacts()
        self.records: dict[str, AlertRecord] = {}
        self.fetches = 0
        self._load()

    # -- notices in ----------------------------------------------------------

    async def receive(self, push: dict[str, Any]) -> None:
        """One ``alert`` / ``alert-cancel`` push body (with ``type``), from the
        push channel or the alerts list; duplicates change nothing."""
        notice_text = push.get("notice")
        claimed = _claimed_id(notice_text)
        record = self.records.get(claimed) if claimed else None
        digest = _digest(push)
        if record is not None and not self._worth_another_look(record, push, digest):
            return
        first_sight = record is None and push.get("type") != "alert-cancel"
        if first_sight and claimed is not None:
            self._ack(claimed, "received")
        try:
            notice = await self._verify(push)
        except NoticeRejected as error:
            self._refused(claimed, push, digest, error.reason, record)
            return
        if notice.kind == "cancel":
            self._cancel(notice)
        else:
            self._accept(notice, push, record)
        self._changed()

    async def fetched(self, reply: dict[str, Any], asked_at: float) -> None:
        """The reply of ``GET /terminal/v1/alerts`` asked at monotonic ``asked_at``:
        learn the terminal's facts, take every notice, and end the alerts on
        screen that the server no longer lists (cancelled while we were away)."""
        self.fetches += 1
        facts = TerminalFacts.from_json(reply.get("terminal"))
        if facts.known and facts != self.facts:
            self.facts = facts
            self._save()
        items = reply.get("alerts")
        items = [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []
        for item in items:
            await self.receive(item)
        listed = {_claimed_id(i.get("notice")) for i in items}
        for record in list(self.records.values()):
            gone = record.id not in listed and record.arrived < asked_at
            if record.state in SHOWABLE and gone:
                # Not acked: the server knows why (the list carries cancels
                # of what a screen may still show; this is the safety net).
                self._end(record, "withdrawn")
                self._changed()

    def _worth_another_look(self, record: AlertRecord, push: dict[str, Any], digest: str) -> bool:
        if push.get("type") == "alert-cancel":
            return record.state not in ENDED
        if record.state == "failed":
            return record.digest != digest  # another copy: perhaps the honest one
        if record.state in SHOWABLE and record.notice is None:
            return True  # kept from before a restart, not verifiable then
        return record.state in SHOWABLE and _claimed_revision(push) > record.revision

    async def _verify(self, push: dict[str, Any]) -> Notice:
        try:
            return verify_notice(push, self.keys())
        except NoticeRejected as error:
            if error.reason != "unknown key" or self.refresh_keys is None:
                raise
        # A key rotation: ask the control centre for its current keys, once.
        try:
            await self.refresh_keys()
        except Exception as error:  # the server is down: the refusal stands
            log.warning("alert keys not refreshed: %s", error)
        return verify_notice(push, self.keys())

    def _refused(
        self,
        claimed: str | None,
        push: dict[str, Any],
        digest: str,
        reason: str,
        record: AlertRecord | None,
    ) -> None:
        log.warning("alert notice %s refused: %s", claimed, reason)
        if claimed is None or push.get("type") == "alert-cancel":
            return  # no alert to ack for (a forged cancel ends nothing)
        if record is not None and record.state != "failed":
            return  # a forged copy of an alert we already hold honestly
        self.records[claimed] = AlertRecord(
            claimed, "failed", digest=digest, reason=reason, arrived=self.monotonic()
        )
        self._ack(claimed, "failed", reason)
        self._save()

    def _accept(self, notice: Notice, push: dict[str, Any], known: AlertRecord | None) -> None:
        now = self.now()
        if known is not None and known.state in SHOWABLE:
            if known.notice is None or revision_of(notice) > known.revision:
                known.notice, known.body = notice, dict(push)  # a newer revision: in place
                known.revision, known.level = revision_of(notice), level_of(notice)
            return
        record = AlertRecord(
            notice.id,
            "active",
            level=level_of(notice),
            sent=sent_of(notice),
            revision=revision_of(notice),
            expires=_iso(notice),
            arrived=self.monotonic(),
        )
        self.records[notice.id] = record
        self._ack(notice.id, "verified")
        self._replace(notice)
        if record.expired(now):
            record.state = "expired"
        elif not notice.shown_to_public:
            record.state = "hidden"
        elif not inside_area(notice, self.facts):
            record.state = "outside-area"
            self._ack(notice.id, "outside-area")
        else:
            record.notice, record.body = notice, dict(push)

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
                self._end(old, "replaced")

    def _cancel(self, notice: Notice) -> None:
        record = self.records.get(notice.id)
        if record is None:
            # Cancelled before it reached us: it must never show if it comes.
            self.records[notice.id] = AlertRecord(notice.id, "cancelled", arrived=self.monotonic())
            return
        if record.state in ENDED:
            return
        had_it = record.state != "failed"
        self._end(record, "cancelled")
        if had_it:
            self._ack(record.id, "cancelled")

    # -- the screen asks -----------------------------------------------------

    def current(self, now: datetime) -> AlertCue | None:
        """The alert that belongs on screen now, if any."""
        candidates = []
        for record in self.records.values():
            if record.state not in SHOWABLE or record.notice is None:
                continue
            if record.expired(now):
                self._end(record, "expired")
                self._save()
                continue
            candidates.append(record)
        if not candidates:
            return None
        candidates.sort(key=lambda r: r.sent, reverse=True)  # newest first ...
        chosen = min(candidates, key=lambda r: r.level)  # ... of the most severe
        assert chosen.notice is not None
        cue = cue_for(chosen.notice, self.facts, resumed=chosen.state == "displayed")
        return cue if chosen.audio is None else _with_audio(cue, chosen.audio)

    def next_change(self, now: datetime) -> datetime | None:
        ends = [_time(r.expires) for r in self.records.values() if r.state in SHOWABLE and r.notice]
        return min((e for e in ends if e is not None), default=None)

    def shown(self, alert: AlertCue, at: datetime) -> None:
        record = self.records.get(alert.id)
        if record is not None and record.state == "active":
            record.state = "displayed"
            self._ack(alert.id, "displayed", at=at)
            self._save()

    def audio_wanted(self) -> list[tuple[str, dict[str, Any]]]:
        """(alert id, resource) for alerts in force whose audio is not here yet."""
        wanted = []
        for record in self.records.values():
            if record.state in SHOWABLE and record.notice is not None and record.audio is None:
                resource = audio_resource(record.notice)
                if resource is not None:
                    wanted.append((record.id, resource))
        return wanted

    def audio_ready(self, alert_id: str, path: Path) -> None:
        record = self.records.get(alert_id)
        if record is not None and record.state in SHOWABLE:
            record.audio = path
            self._changed(save=False)

    def status(self) -> list[dict[str, str]]:
        """``[{id, state}]``, newest first, for the status report."""
        records = sorted(self.records.values(), key=lambda r: (r.arrived, r.sent), reverse=True)
        return [{"id": r.id, "state": r.state} for r in records[:STATUS_MAX]]

    # -- helpers -------------------------------------------------------------

    def _ack(
        self, alert_id: str, state: str, reason: str | None = None, *, at: datetime | None = None
    ) -> None:
        self.ack(Ack(alert_id, state, at or self.now(), reason))

    def _end(self, record: AlertRecord, state: str) -> None:
        record.state, record.notice, record.body, record.audio = state, None, None, None

    def _changed(self, *, save: bool = True) -> None:
        if save:
            self._save()
        if self.on_change is not None:
            self.on_change()

    def _save(self) -> None:
        self._prune()
        data = {
            "terminal": self.facts.as_json(),
            "alerts": [r.as_json() for r in self.records.values()],
        }
        write_atomic(self.path, json.dumps(data, ensure_ascii=False).encode("utf-8"))

    def _prune(self) -> None:
        """Forget alerts long over, so the store stays small."""
        horizon = self.now() - KEEP_ENDED
        for record in list(self.records.values()):
            expires = _time(record.expires)
            if record.state not in SHOWABLE and expires is not None and expires < horizon:
                del self.records[record.id]
        while len(self.records) > KEEP_MAX:
            del self.records[next(iter(self.records))]

    def _load(self) -> None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return
        except (OSError, ValueError) as error:
            log.warning("alert store unreadable, starting afresh: %s", error)
            return
        if not isinstance(data, dict):
            return
        self.facts = TerminalFacts.from_json(data.get("terminal"))
        for item in data.get("alerts") or []:
            try:
                record = AlertRecord.from_json(item)
            except (KeyError, TypeError, ValueError):
                continue
            self.records[record.id] = record
            if record.state in SHOWABLE and record.body is not None:
                try:  # verified again: the file is no more trusted than the network
                    record.notice = verify_notice(record.body, self.keys())
                except NoticeRejected as error:
                    log.warning("stored alert %s not shown: %s", record.id, error.reason)


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


def _with_audio(cue: AlertCue, audio: Path) -> AlertCue:
    return replace(cue, audio=audio)


def _claimed_id(notice_text: Any) -> str | None:
    """The id a notice claims, read before (and whatever) its signature says:
    the ``received`` and ``failed`` acks need somewhere to go."""
    data = _unverified(notice_text)
    value = data.get("id") if data else None
    return value if isinstance(value, str) and 0 < len(value) <= 200 else None


def _claimed_revision(push: dict[str, Any]) -> int:
    data = _unverified(push.get("notice"))
    value = data.get("revision") if data else None
    return value if isinstance(value, int) else 0


def _unverified(notice_text: Any) -> dict[str, Any] | None:
    if not isinstance(notice_text, str):
        return None
    try:
        data = json.loads(notice_text)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _digest(push: dict[str, Any]) -> str:
    parts = [str(push.get(k)) for k in ("notice", "signature", "key_id")]
    return hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()


def _iso(notice: Notice) -> str | None:
    value = notice.body.get("expires")
    return value if isinstance(value, str) and _time(value) is not None else None


def _time(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None
