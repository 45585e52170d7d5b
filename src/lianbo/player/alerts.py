"""Emergency alerts on one screen: the decisions, and what they are acked as.

Notices come from the push channel (``alert`` / ``alert-cancel``) and from
``GET /terminal/v1/alerts`` (at start-up, on every push (re)connect, and
with each poll), often both for the same alert; ``AlertDesk.receive`` takes
them in any order, any number of times, and decides once per alert id:

1. ``received`` is acked on arrival; the signature is checked with the
   keys pinned at enrolment (``protocol.alerts.verify_notice``; an unknown
   key is trusted only when a key set signed by a pinned key brings it in,
   ``trust.py``, else the notice is refused as "untrusted key"). A refusal
   is acked ``failed`` with the reason, once per distinct forgery, and
   nothing is shown; an honest copy of the same id may still arrive and is
   taken.
2. ``verified``; then ``Test``/``System`` notices stop there (never shown),
   a screen outside the polygons/circles acks ``outside-area``, an alert
   already cancelled or replaced, or expired, is not shown; the rest wait
   for the screen, which acks ``displayed`` when it shows them.
3. An Update ends the alerts it ``replaces``; a cancel ends its alert
   (``cancelled``); ``expires`` ends it by itself.

What was decided is kept in ``alerts.json`` in the state dir
(``player/alert_store.py``), so an alert is never taken as new twice — not
after a restart either. An alert still in force when the player restarts
comes back on screen (marked ``resumed``: no second ``displayed`` ack, no
second attention tone).

Of several alerts in force the screen shows the most severe (lowest level
number), newest first. The decisions themselves, free of clock, disk and
network, are in ``player/alert_state.py``; this desk feeds them verified
notices and times, sends the acks they call for, and saves what changed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from lianbo.player.alert_acks import Ack
from lianbo.player.alert_state import ENDED, SHOWABLE, AlertRecord, AlertStates, end
from lianbo.player.alert_store import AlertStore
from lianbo.player.alert_view import TerminalFacts
from lianbo.player.playback import AlertCue
from lianbo.protocol.alerts import Notice, NoticeRejected, verify_notice

log = logging.getLogger("lianbo.player")


class AlertDesk:
    """Decides what becomes of each alert notice; the player asks it what to show."""

    def __init__(
        self,
        state_dir: Path,
        keys: Callable[[], dict[str, str]],
        now: Callable[[], datetime],
        ack: Callable[[Ack], None],
        *,
        learn_key: Callable[[str], Awaitable[str | None]] | None = None,
        on_change: Callable[[], None] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = AlertStore(state_dir)
        self.keys = keys
        self.now = now
        self.ack = ack
        self.learn_key = learn_key
        self.on_change = on_change
        self.monotonic = monotonic
        self.fetches = 0
        self.facts, records = self.store.load(keys)
        self.states = AlertStates(records)

    @property
    def path(self) -> Path:
        """The store file (``alerts.json``)."""
        return self.store.path

    @property
    def records(self) -> dict[str, AlertRecord]:
        """What was decided, by alert id."""
        return self.states.records

    # -- notices in ----------------------------------------------------------

    async def receive(self, push: dict[str, Any]) -> None:
        """One ``alert`` / ``alert-cancel`` push body (with ``type``), from the
        push channel or the alerts list; duplicates change nothing."""
        notice_text = push.get("notice")
        claimed = _claimed_id(notice_text)
        record = self.states.records.get(claimed) if claimed else None
        digest = _digest(push)
        if record is not None and not _worth_another_look(record, push, digest):
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
            if self.states.cancel(notice, self.monotonic()):
                self._ack(notice.id, "cancelled")
        else:
            now = self.now()
            acks = self.states.accept(notice, push, record, self.facts, now, self.monotonic())
            for state in acks:
                self._ack(notice.id, state)
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
        for record in self.states.unlisted(listed, asked_at):
            # Not acked: the server knows why (the list carries cancels
            # of what a screen may still show; this is the safety net).
            end(record, "withdrawn")
            self._changed()

    async def _verify(self, push: dict[str, Any]) -> Notice:
        try:
            return verify_notice(push, self.keys())
        except NoticeRejected as error:
            if error.reason != "unknown key" or self.learn_key is None:
                raise
        # A rotation, or a forger's own key: only a key set signed by a
        # pinned key may bring it in (``trust.py``).
        key_id = str(push.get("key_id"))
        try:
            refused = await self.learn_key(key_id)
        except Exception as error:  # the server is down: the refusal stands
            log.warning("alert keys not refreshed: %s", error)
            raise NoticeRejected("unknown key") from None
        if refused is not None:
            raise NoticeRejected("untrusted key")
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
        if self.states.refused(claimed, digest, reason, record, self.monotonic()):
            self._ack(claimed, "failed", reason)
            self._save()

    # -- the screen asks -----------------------------------------------------

    def current(self, now: datetime) -> AlertCue | None:
        """The alert that belongs on screen now, if any."""
        if self.states.expire(now):
            self._save()
        return self.states.on_screen(self.facts)

    def next_change(self, now: datetime) -> datetime | None:
        return self.states.next_change()

    def shown(self, alert: AlertCue, at: datetime) -> None:
        if self.states.shown(alert.id):
            self._ack(alert.id, "displayed", at=at)
            self._save()

    def audio_wanted(self) -> list[tuple[str, dict[str, Any]]]:
        """(alert id, resource) for alerts in force whose audio is not here yet."""
        return self.states.audio_wanted()

    def audio_ready(self, alert_id: str, path: Path) -> None:
        if self.states.audio_ready(alert_id, path):
            self._changed(save=False)

    def status(self) -> list[dict[str, str]]:
        """``[{id, state}]``, newest first, for the status report."""
        return self.states.status()

    # -- helpers -------------------------------------------------------------

    def _ack(
        self, alert_id: str, state: str, reason: str | None = None, *, at: datetime | None = None
    ) -> None:
        self.ack(Ack(alert_id, state, at or self.now(), reason))

    def _changed(self, *, save: bool = True) -> None:
        if save:
            self._save()
        if self.on_change is not None:
            self.on_change()

    def _save(self) -> None:
        self.store.save(self.facts, self.states.records, self.now())


def _worth_another_look(record: AlertRecord, push: dict[str, Any], digest: str) -> bool:
    """Whether another copy of an alert already decided about may change anything."""
    if push.get("type") == "alert-cancel":
        return record.state not in ENDED
    if record.state == "failed":
        return record.digest != digest  # another copy: perhaps the honest one
    if record.state in SHOWABLE and record.notice is None:
        return True  # kept from before a restart, not verifiable then
    return record.state in SHOWABLE and _claimed_revision(push) > record.revision


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
