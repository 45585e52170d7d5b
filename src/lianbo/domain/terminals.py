"""Terminals (screens): tiers, states, and the facts checked on input."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from lianbo.domain.errors import InvalidInput

NAME_MAX = 120
LABEL_MAX = 40
LABELS_MAX = 32


class Tier(StrEnum):
    """Screen size class: landmark outdoor screens, community halls, homes."""

    OUTDOOR = "outdoor"
    HALL = "hall"
    HOME = "home"


class TerminalStatus(StrEnum):
    """Life of a terminal record, from creation to retirement."""

    PENDING = "pending"  # created, not yet enrolled
    ONLINE = "online"
    OFFLINE = "offline"
    RETIRED = "retired"


LIVE_STATUSES: tuple[TerminalStatus, ...] = (
    TerminalStatus.PENDING,
    TerminalStatus.ONLINE,
    TerminalStatus.OFFLINE,
)


@dataclass(frozen=True, slots=True)
class TerminalDraft:
    """What an operator gives to create a terminal (already parsed)."""

    name: str
    tier: Tier
    region: str
    latitude: float
    longitude: float
    tags: tuple[str, ...] = field(default_factory=tuple)
    groups: tuple[str, ...] = field(default_factory=tuple)


def check_name(name: str, *, field_name: str = "name") -> str:
    """A terminal name: trimmed, non-empty, at most NAME_MAX characters."""
    cleaned = name.strip()
    if not cleaned:
        raise InvalidInput("name must not be empty", field=field_name)
    if len(cleaned) > NAME_MAX:
        raise InvalidInput(f"name is longer than {NAME_MAX} characters", field=field_name)
    return cleaned


def check_position(latitude: float, longitude: float) -> tuple[float, float]:
    """WGS-84 degrees within range; NaN and infinity refused."""
    if not math.isfinite(latitude) or not -90.0 <= latitude <= 90.0:
        raise InvalidInput("latitude must be between -90 and 90", field="latitude")
    if not math.isfinite(longitude) or not -180.0 <= longitude <= 180.0:
        raise InvalidInput("longitude must be between -180 and 180", field="longitude")
    return latitude, longitude


def check_labels(labels: list[str] | tuple[str, ...], *, field_name: str) -> tuple[str, ...]:
    """Tags or groups: trimmed, unique, short, in the order given."""
    if len(labels) > LABELS_MAX:
        raise InvalidInput(f"at most {LABELS_MAX} {field_name}", field=field_name)
    seen: dict[str, None] = {}
    for raw in labels:
        label = raw.strip()
        if not label:
            continue
        if any(ch.isspace() for ch in label):
            raise InvalidInput(f"{field_name} entries cannot contain spaces", field=field_name)
        if len(label) > LABEL_MAX:
            raise InvalidInput(
                f"{field_name} entry longer than {LABEL_MAX} characters", field=field_name
            )
        seen[label] = None
    return tuple(seen)


def parse_tier(raw: str, *, field_name: str = "tier") -> Tier:
    """A tier by its name, with the allowed names in the error."""
    try:
        return Tier(raw.strip().lower())
    except ValueError:
        allowed = ", ".join(t.value for t in Tier)
        raise InvalidInput(f"tier must be one of {allowed}", field=field_name) from None


@dataclass(frozen=True, slots=True)
class Terminal:
    """One screen as the control centre knows it."""

    id: str
    name: str
    tier: Tier
    region: str
    latitude: float
    longitude: float
    status: TerminalStatus
    tags: tuple[str, ...]
    groups: tuple[str, ...]
    created_at: datetime
    updated_at: datetime
    enrolled_at: datetime | None = None
    last_seen_at: datetime | None = None
    retired_at: datetime | None = None

    def facts(self) -> dict[str, object]:
        """The fields an audit entry records as before/after."""
        return {
            "name": self.name,
            "tier": self.tier.value,
            "region": self.region,
            "latitude": self.latitude,
            "longitude": self.longitude,
            "status": self.status.value,
            "tags": list(self.tags),
            "groups": list(self.groups),
        }


@dataclass(frozen=True, slots=True)
class TerminalFilter:
    """What a terminal list may be narrowed by; all given filters must hold."""

    region: str | None = None
    tier: Tier | None = None
    status: TerminalStatus | None = None
    tag: str | None = None
    group: str | None = None
    search: str | None = None


@dataclass(frozen=True, slots=True)
class TerminalChanges:
    """An edit: only the fields that are not None change."""

    name: str | None = None
    tier: Tier | None = None
    region: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    tags: tuple[str, ...] | None = None
    groups: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class StatusReport:
    """What a terminal last said about itself (``protocol.reports.STATUS_KEYS``)."""

    terminal_id: str
    reported_at: datetime
    status: dict[str, Any]


LANGUAGE_TAG = "lang:"
DEFAULT_LANGUAGE = "zh-CN"


def display_language(tags: tuple[str, ...] | list[str]) -> str:
    """The language a screen shows alert texts in: its ``lang:<code>`` tag
    (``lang:en``, ``lang:bo`` for Tibetan …), else zh-CN. A tag rather than
    a column: operators already set and filter tags, in the console and CSV."""
    for tag in tags:
        if tag.startswith(LANGUAGE_TAG) and len(tag) > len(LANGUAGE_TAG):
            return tag[len(LANGUAGE_TAG) :]
    return DEFAULT_LANGUAGE
