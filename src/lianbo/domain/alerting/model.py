"""The alert, faithful to OASIS CAP 1.2 (Common Alerting Protocol).

Field names follow the standard in snake_case; multi-valued elements are
tuples, pairs such as ``eventCode`` and ``parameter`` are ``(valueName,
value)`` tuples. Times are aware ``datetime`` values to the second, as CAP
requires. Coordinates are WGS-84 ``(lat, lon)`` in degrees.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from lianbo.domain.regions import normalise_code

GB_T_2260_NAMES = frozenset({"GB/T2260", "GB/T 2260", "GBT2260"})


class Status(StrEnum):
    ACTUAL = "Actual"
    EXERCISE = "Exercise"
    SYSTEM = "System"
    TEST = "Test"
    DRAFT = "Draft"


class MsgType(StrEnum):
    ALERT = "Alert"
    UPDATE = "Update"
    CANCEL = "Cancel"
    ACK = "Ack"
    ERROR = "Error"


class Scope(StrEnum):
    PUBLIC = "Public"
    RESTRICTED = "Restricted"
    PRIVATE = "Private"


class Category(StrEnum):
    GEO = "Geo"
    MET = "Met"
    SAFETY = "Safety"
    SECURITY = "Security"
    RESCUE = "Rescue"
    FIRE = "Fire"
    HEALTH = "Health"
    ENV = "Env"
    TRANSPORT = "Transport"
    INFRA = "Infra"
    CBRNE = "CBRNE"
    OTHER = "Other"


class ResponseType(StrEnum):
    SHELTER = "Shelter"
    EVACUATE = "Evacuate"
    PREPARE = "Prepare"
    EXECUTE = "Execute"
    AVOID = "Avoid"
    MONITOR = "Monitor"
    ASSESS = "Assess"
    ALL_CLEAR = "AllClear"
    NONE = "None"


class Urgency(StrEnum):
    IMMEDIATE = "Immediate"
    EXPECTED = "Expected"
    FUTURE = "Future"
    PAST = "Past"
    UNKNOWN = "Unknown"


class Severity(StrEnum):
    EXTREME = "Extreme"
    SEVERE = "Severe"
    MODERATE = "Moderate"
    MINOR = "Minor"
    UNKNOWN = "Unknown"


class Certainty(StrEnum):
    OBSERVED = "Observed"
    LIKELY = "Likely"
    POSSIBLE = "Possible"
    UNLIKELY = "Unlikely"
    UNKNOWN = "Unknown"


Pair = tuple[str, str]
Point = tuple[float, float]


@dataclass(frozen=True, slots=True)
class Circle:
    """A circle: centre and radius in kilometres (CAP ``lat,lon radius``)."""

    lat: float
    lon: float
    radius_km: float


@dataclass(frozen=True, slots=True)
class Resource:
    """A supplementary file (audio, image) referred to by an info block."""

    resource_desc: str
    mime_type: str
    size: int | None = None
    uri: str | None = None
    deref_uri: str | None = None
    digest: str | None = None


@dataclass(frozen=True, slots=True)
class Area:
    """An affected area: closed polygons, circles and geocodes."""

    area_desc: str
    polygons: tuple[tuple[Point, ...], ...] = ()
    circles: tuple[Circle, ...] = ()
    geocodes: tuple[Pair, ...] = ()
    altitude: float | None = None
    ceiling: float | None = None

    def region_codes(self) -> tuple[str, ...]:
        """Short-form region codes named by GB/T 2260 geocodes."""
        return tuple(
            normalise_code(value, field="geocode")
            for name, value in self.geocodes
            if name.strip() in GB_T_2260_NAMES
        )


@dataclass(frozen=True, slots=True)
class Info:
    """The message in one language."""

    categories: tuple[Category, ...]
    event: str
    urgency: Urgency
    severity: Severity
    certainty: Certainty
    language: str = "en-US"
    response_types: tuple[ResponseType, ...] = ()
    audience: str | None = None
    event_codes: tuple[Pair, ...] = ()
    effective: datetime | None = None
    onset: datetime | None = None
    expires: datetime | None = None
    sender_name: str | None = None
    headline: str | None = None
    description: str | None = None
    instruction: str | None = None
    web: str | None = None
    contact: str | None = None
    parameters: tuple[Pair, ...] = ()
    resources: tuple[Resource, ...] = ()
    areas: tuple[Area, ...] = ()


@dataclass(frozen=True, slots=True)
class Reference:
    """One earlier message this one refers to (``sender,identifier,sent``)."""

    sender: str
    identifier: str
    sent: datetime

    @property
    def key(self) -> tuple[str, str, datetime]:
        """The dedup key of the referenced message."""
        return (self.sender, self.identifier, self.sent)


@dataclass(frozen=True, slots=True)
class Alert:
    """A CAP 1.2 alert message."""

    identifier: str
    sender: str
    sent: datetime
    status: Status
    msg_type: MsgType
    scope: Scope
    source: str | None = None
    restriction: str | None = None
    addresses: tuple[str, ...] = ()
    codes: tuple[str, ...] = ()
    note: str | None = None
    references: tuple[Reference, ...] = ()
    incidents: tuple[str, ...] = ()
    infos: tuple[Info, ...] = ()

    @property
    def key(self) -> tuple[str, str, datetime]:
        """The dedup key: (sender, identifier, sent), as CAP defines it."""
        return (self.sender, self.identifier, self.sent)

    def info_for(self, language: str) -> Info | None:
        """The info block in ``language`` (exact, then primary subtag)."""
        for info in self.infos:
            if info.language.lower() == language.lower():
                return info
        primary = language.split("-")[0].lower()
        for info in self.infos:
            if info.language.split("-")[0].lower() == primary:
                return info
        return None

    def areas(self) -> tuple[Area, ...]:
        """Every area of every info block."""
        return tuple(area for info in self.infos for area in info.areas)
