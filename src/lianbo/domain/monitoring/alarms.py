"""Alarms from observations: severity, dedup, flap suppression, lifecycle.

``observe(book, observation, now) -> (book, events)`` is a pure reducer:
the caller keeps the returned ``AlarmBook`` and publishes the events (store
them, notify webhooks). One alarm per (terminal, type) is live at a time.
A condition opens an alarm only after it held for ``RULES[type].raise_after``
observations *and* ``hold_s`` seconds; an open or acknowledged alarm
auto-resolves after the condition has been clear for ``clear_s`` seconds, so
a flapping screen raises one alarm, not one per report. Content mismatch
opens at the second consecutive mismatch, as critical.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum


class AlarmType(StrEnum):
    OFFLINE = "offline"
    BLACK = "black"
    FROZEN = "frozen"
    CONTENT_MISMATCH = "content-mismatch"
    UNAUTHORISED_CONTENT = "unauthorised-content"
    OFF_SCHEDULE = "off-schedule"
    STORAGE_LOW = "storage-low"
    CLOCK_DRIFT = "clock-drift"
    UNTRUSTED_KEY = "untrusted-key"  # a signature by a key the screen has not pinned


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    MAJOR = "major"
    CRITICAL = "critical"


class AlarmState(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


@dataclass(frozen=True, slots=True)
class Rule:
    """When a condition becomes an alarm and when it clears."""

    raise_after: int = 1  # consecutive observations with the condition
    hold_s: float = 0.0  # ... spanning at least this long
    clear_s: float = 60.0  # condition absent this long resolves the alarm


RULES: Mapping[AlarmType, Rule] = {
    AlarmType.OFFLINE: Rule(raise_after=1, clear_s=60),  # the caller applies the heartbeat timeout
    AlarmType.BLACK: Rule(raise_after=2, hold_s=10, clear_s=30),
    AlarmType.FROZEN: Rule(raise_after=2, hold_s=10, clear_s=30),
    AlarmType.CONTENT_MISMATCH: Rule(raise_after=2, clear_s=60),
    AlarmType.UNAUTHORISED_CONTENT: Rule(raise_after=1, clear_s=300),
    AlarmType.OFF_SCHEDULE: Rule(raise_after=2, hold_s=30, clear_s=60),
    AlarmType.STORAGE_LOW: Rule(raise_after=1, clear_s=600),
    AlarmType.CLOCK_DRIFT: Rule(raise_after=3, hold_s=60, clear_s=300),
    AlarmType.UNTRUSTED_KEY: Rule(raise_after=1, clear_s=300),
}

_S, _W, _M, _C = Severity.INFO, Severity.WARNING, Severity.MAJOR, Severity.CRITICAL
# Severity by type and tier: a dark landmark screen is seen by a city,
# a dark living-room TV by a family. Hijack-like findings are critical anywhere.
SEVERITY: Mapping[AlarmType, Mapping[str, Severity]] = {
    AlarmType.OFFLINE: {"outdoor": _C, "hall": _M, "home": _W},
    AlarmType.BLACK: {"outdoor": _C, "hall": _M, "home": _W},
    AlarmType.FROZEN: {"outdoor": _M, "hall": _M, "home": _W},
    AlarmType.CONTENT_MISMATCH: {"outdoor": _C, "hall": _C, "home": _C},
    AlarmType.UNAUTHORISED_CONTENT: {"outdoor": _C, "hall": _C, "home": _C},
    AlarmType.OFF_SCHEDULE: {"outdoor": _M, "hall": _W, "home": _W},
    AlarmType.STORAGE_LOW: {"outdoor": _W, "hall": _W, "home": _S},
    AlarmType.CLOCK_DRIFT: {"outdoor": _W, "hall": _W, "home": _S},
    AlarmType.UNTRUSTED_KEY: {"outdoor": _C, "hall": _C, "home": _C},
}


def severity(kind: AlarmType, tier: str) -> Severity:
    """Severity of ``kind`` on a screen of ``tier`` (unknown tiers rank as outdoor)."""
    return SEVERITY[kind].get(tier, SEVERITY[kind]["outdoor"])


@dataclass(frozen=True, slots=True)
class Observation:
    """One report about a condition: present (``active``) or absent."""

    terminal_id: str
    kind: AlarmType
    active: bool
    tier: str = "outdoor"
    evidence: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Alarm:
    """A live or past alarm; ``key`` is its dedup key (terminal, type)."""

    terminal_id: str
    kind: AlarmType
    severity: Severity
    state: AlarmState
    opened_at: datetime
    evidence: Mapping[str, object]
    acknowledged_at: datetime | None = None
    resolved_at: datetime | None = None

    @property
    def key(self) -> tuple[str, AlarmType]:
        return (self.terminal_id, self.kind)


@dataclass(frozen=True, slots=True)
class Tracker:
    """Flap state of one (terminal, type): the current run of observations."""

    active: bool
    count: int
    since: datetime


@dataclass(frozen=True, slots=True)
class AlarmEvent:
    """Something that happened to an alarm: ``opened``, ``acknowledged``, ``resolved``."""

    name: str
    alarm: Alarm


Key = tuple[str, AlarmType]


@dataclass(frozen=True, slots=True)
class AlarmBook:
    """Live alarms and condition trackers, keyed by (terminal, type)."""

    alarms: Mapping[Key, Alarm] = field(default_factory=dict)
    trackers: Mapping[Key, Tracker] = field(default_factory=dict)


def _track(previous: Tracker | None, active: bool, now: datetime) -> Tracker:
    if previous is not None and previous.active == active:
        return replace(previous, count=previous.count + 1)
    return Tracker(active, 1, now)


def _held(tracker: Tracker, rule: Rule, now: datetime) -> bool:
    if tracker.active:
        return tracker.count >= rule.raise_after and now - tracker.since >= timedelta(
            seconds=rule.hold_s
        )
    return now - tracker.since >= timedelta(seconds=rule.clear_s)


def observe(
    book: AlarmBook, observation: Observation, now: datetime
) -> tuple[AlarmBook, list[AlarmEvent]]:
    """Apply one observation at ``now``; return the new book and what happened."""
    key: Key = (observation.terminal_id, observation.kind)
    tracker = _track(book.trackers.get(key), observation.active, now)
    trackers = {**book.trackers, key: tracker}
    alarms = dict(book.alarms)
    events: list[AlarmEvent] = []
    live = alarms.get(key)
    rule = RULES[observation.kind]
    if live is None and tracker.active and _held(tracker, rule, now):
        opened = Alarm(
            observation.terminal_id,
            observation.kind,
            severity(observation.kind, observation.tier),
            AlarmState.OPEN,
            now,
            dict(observation.evidence),
        )
        alarms[key] = opened
        events.append(AlarmEvent("opened", opened))
    elif live is not None and not tracker.active and _held(tracker, rule, now):
        del alarms[key]
        events.append(AlarmEvent("resolved", _resolved(live, now)))
    return AlarmBook(alarms, trackers), events


def _resolved(alarm: Alarm, now: datetime) -> Alarm:
    return replace(alarm, state=AlarmState.RESOLVED, resolved_at=now)


def acknowledge(book: AlarmBook, key: Key, now: datetime) -> tuple[AlarmBook, list[AlarmEvent]]:
    """A monitor acknowledged the live alarm ``key`` (no-op if none or already)."""
    live = book.alarms.get(key)
    if live is None or live.state is not AlarmState.OPEN:
        return book, []
    acked = replace(live, state=AlarmState.ACKNOWLEDGED, acknowledged_at=now)
    return replace(book, alarms={**book.alarms, key: acked}), [AlarmEvent("acknowledged", acked)]


def resolve(book: AlarmBook, key: Key, now: datetime) -> tuple[AlarmBook, list[AlarmEvent]]:
    """Resolve ``key`` by hand; a condition still present opens it again later."""
    live = book.alarms.get(key)
    if live is None:
        return book, []
    alarms = {k: v for k, v in book.alarms.items() if k != key}
    trackers = {k: v for k, v in book.trackers.items() if k != key}
    return AlarmBook(alarms, trackers), [AlarmEvent("resolved", _resolved(live, now))]


@dataclass(frozen=True, slots=True)
class AlarmFilter:
    """Which stored alarms a list asks for (``within``: a region subtree)."""

    state: str | None = None
    type: str | None = None
    terminal_id: str | None = None
    region: str | None = None
    within: str = ""
