"""Domain events: what happened, in the past tense, recorded by services on
the unit of work and handled after the commit (``services/messagebus.py``).

An event names the thing that changed, not its new state: a handler on any
process reads the state from the store, so an event stays small enough to
travel between processes (PostgreSQL ``NOTIFY`` payloads end at 8000 bytes)
and never carries a stale copy. ``ManifestsChanged`` is the one that carries
values (audience key -> version); ``envelopes`` splits a large one.

The JSON codec is pure: ``encode(event)`` and ``decode(text)``; an envelope
adds the process the event was committed on (``wrap`` / ``unwrap``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

ENVELOPE_MAX = 7900  # bytes; PostgreSQL refuses a NOTIFY payload of 8000 or more


class UnknownEvent(ValueError):
    """A text that is not an event this version knows (a newer process sent it)."""


@dataclass(frozen=True, slots=True)
class Event:
    """Base of every domain event."""


@dataclass(frozen=True, slots=True)
class TerminalEdited(Event):
    """A terminal's facts changed (name, tier, region, labels): its audience may have."""

    terminal_id: str


@dataclass(frozen=True, slots=True)
class TerminalRetired(Event):
    """A terminal was taken out of service: its token is revoked."""

    terminal_id: str


@dataclass(frozen=True, slots=True)
class TerminalEnrolled(Event):
    """A terminal exchanged an enrolment code for a new token: any old one is revoked."""

    terminal_id: str


@dataclass(frozen=True, slots=True)
class CommandSent(Event):
    """A command to one screen was audited: the process holding it pushes it."""

    terminal_id: str
    command_id: str
    command: str


@dataclass(frozen=True, slots=True)
class AssetAdded(Event):
    """A new asset was registered; ``needs_qc`` when quality control is owed."""

    asset_id: str
    needs_qc: bool


@dataclass(frozen=True, slots=True)
class AssetRevoked(Event):
    """An approved asset was taken off air everywhere."""

    asset_id: str


@dataclass(frozen=True, slots=True)
class SchedulePublished(Event):
    """A schedule went on air."""

    schedule_id: str


@dataclass(frozen=True, slots=True)
class ScheduleUnpublished(Event):
    """A schedule came off air."""

    schedule_id: str


@dataclass(frozen=True, slots=True)
class ManifestsChanged(Event):
    """New manifest versions were stored: audience key -> version."""

    versions: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class AlertIssued(Event):
    """An alert went on air (issued, or confirmed by a second issuer): its
    signed notice is in the store, to be pushed to its topics."""

    alert_id: str


@dataclass(frozen=True, slots=True)
class AlertCancelled(Event):
    """An alert that was on air ended early (cancelled, or superseded by an
    Update): its signed cancel notice is in the store."""

    alert_id: str


@dataclass(frozen=True, slots=True)
class KeysRotated(Event):
    """A new signing key became the active one."""

    key_id: str


@dataclass(frozen=True, slots=True)
class KeyRetired(Event):
    """A signing key left the key set."""

    key_id: str


@dataclass(frozen=True, slots=True)
class UserDeactivated(Event):
    """A user can no longer sign in; their tokens were revoked."""

    user_id: str


@dataclass(frozen=True, slots=True)
class WebhooksQueued(Event):
    """Alarm webhooks were written to the outbox (ADR 0016): the leader's
    sender sends them now instead of at its next poll."""


EVENTS: dict[str, type[Event]] = {
    cls.__name__: cls
    for cls in (
        TerminalEdited,
        TerminalRetired,
        TerminalEnrolled,
        CommandSent,
        AssetAdded,
        AssetRevoked,
        SchedulePublished,
        ScheduleUnpublished,
        ManifestsChanged,
        AlertIssued,
        AlertCancelled,
        KeysRotated,
        KeyRetired,
        UserDeactivated,
        WebhooksQueued,
    )
}


def _as_json(event: Event) -> dict[str, Any]:
    body = asdict(event)
    if isinstance(event, ManifestsChanged):
        body["versions"] = dict(event.versions)
    return {"type": type(event).__name__, **body}


def _of_json(data: object) -> Event:
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        raise UnknownEvent("an event is a JSON object with a type")
    cls = EVENTS.get(data["type"])
    if cls is None:
        raise UnknownEvent(f"unknown event type {data['type'][:40]!r}")
    names = {f.name for f in fields(cls)}
    values = {k: v for k, v in data.items() if k != "type"}
    if set(values) != names:
        raise UnknownEvent(f"{cls.__name__} takes {', '.join(sorted(names))}")
    try:
        return cls(**values)
    except TypeError as error:  # pragma: no cover - guarded by the names check
        raise UnknownEvent(str(error)) from None


def encode(event: Event) -> str:
    """The event as compact JSON text (``{"type": name, ...fields}``)."""
    return json.dumps(_as_json(event), separators=(",", ":"), ensure_ascii=False)


def decode(text: str) -> Event:
    """The event ``encode`` wrote; ``UnknownEvent`` for anything else."""
    try:
        data = json.loads(text)
    except ValueError:
        raise UnknownEvent("not JSON") from None
    return _of_json(data)


@dataclass(frozen=True, slots=True)
class Envelope:
    """An event as it travels: where and when (wall clock, seconds) it was sent."""

    origin: str
    event: Event
    sent_at: float | None = None


def wrap(origin: str, event: Event, sent_at: float | None = None) -> str:
    """The envelope another process receives: where it was committed, when
    it was sent (for the bus's lag figure), and what."""
    body: dict[str, Any] = {"origin": origin, "event": _as_json(event)}
    if sent_at is not None:
        body["sent_at"] = round(sent_at, 6)
    return json.dumps(body, separators=(",", ":"))


def open_envelope(text: str) -> Envelope:
    """The envelope ``wrap`` wrote; ``UnknownEvent`` for anything else."""
    try:
        data = json.loads(text)
    except ValueError:
        raise UnknownEvent("not JSON") from None
    if not isinstance(data, dict) or not isinstance(data.get("origin"), str):
        raise UnknownEvent("an envelope names its origin")
    sent_at = data.get("sent_at")
    if not isinstance(sent_at, int | float) or isinstance(sent_at, bool):
        sent_at = None
    return Envelope(data["origin"], _of_json(data.get("event")), sent_at)


def unwrap(text: str) -> tuple[str, Event]:
    """(origin, event) from an envelope ``wrap`` wrote."""
    envelope = open_envelope(text)
    return envelope.origin, envelope.event


def envelopes(
    origin: str, event: Event, limit: int = ENVELOPE_MAX, sent_at: float | None = None
) -> list[str]:
    """``event`` wrapped in envelopes of at most ``limit`` bytes each: a
    ``ManifestsChanged`` too large for one is split by audience (each part
    holds whole entries, so applying every part is applying the event)."""
    text = wrap(origin, event, sent_at)
    if len(text.encode("utf-8")) <= limit:
        return [text]
    if not isinstance(event, ManifestsChanged) or len(event.versions) < 2:
        raise ValueError(f"{type(event).__name__} does not fit one envelope")
    items = sorted(event.versions.items())
    half = len(items) // 2
    return [
        text
        for part in (items[:half], items[half:])
        for text in envelopes(origin, ManifestsChanged(dict(part)), limit, sent_at)
    ]
